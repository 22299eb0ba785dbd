package call

import (
	"context"
	"log/slog"

	"github.com/go-logr/logr"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// UseLogger sends the LiveKit SDK's and pion's logs to l. Their routine
// chatter (every ICE and signalling step) is shown only when l logs at
// debug level; their warnings and errors always are.
func UseLogger(l *slog.Logger) {
	lksdk.SetLogger(protoLogger.LogRLogger(logr.FromSlogHandler(sdkHandler{l.Handler()})))
}

type sdkHandler struct{ slog.Handler }

func (h sdkHandler) Enabled(ctx context.Context, level slog.Level) bool {
	if h.Handler.Enabled(ctx, slog.LevelDebug) {
		return true
	}
	return level >= slog.LevelWarn && h.Handler.Enabled(ctx, level)
}

func (h sdkHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return sdkHandler{h.Handler.WithAttrs(attrs)}
}

func (h sdkHandler) WithGroup(name string) slog.Handler { return sdkHandler{h.Handler.WithGroup(name)} }
