package main

import (
	"fmt"
	"log/slog"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
)

// roomKey makes the call's end-to-end encryption key from call.room_key and
// says, once, whether calls are encrypted. The key itself is never logged:
// its fingerprint is what people compare.
func roomKey(cfg config.Config, log *slog.Logger) (*call.RoomKey, error) {
	if cfg.Call.RoomKey == "" {
		log.Warn("calls are not end-to-end encrypted: call.room_key is not set")
		return nil, nil
	}
	key, err := call.NewRoomKey(cfg.Call.RoomKey)
	if err != nil {
		return nil, fmt.Errorf("call.room_key: %w", err)
	}
	log.Info("calls are end-to-end encrypted", "fingerprint", key.Fingerprint())
	return key, nil
}
