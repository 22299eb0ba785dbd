package call

import (
	"context"
	"log/slog"

	"github.com/go-logr/logr"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// UseLogger sends the LiveKit SDK's and pion's logs to l, shown only when l
// logs at debug level: what they report that matters to a person (a server
// that refuses, a call that drops) reaches the log once, in plain words,
// from this package; their own lines repeat it in the stack's terms.
func UseLogger(l *slog.Logger) {
	lksdk.SetLogger(protoLogger.LogRLogger(logr.FromSlogHandler(sdkHandler{l.Handler()})))
}

type sdkHandler struct{ slog.Handler }

func (h sdkHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.Handler.Enabled(ctx, slog.LevelDebug)
}

// Handle drops what Enabled refuses: logr passes errors on without asking.
func (h sdkHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h sdkHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return sdkHandler{h.Handler.WithAttrs(attrs)}
}

func (h sdkHandler) WithGroup(name string) slog.Handler { return sdkHandler{h.Handler.WithGroup(name)} }
