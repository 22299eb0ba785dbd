//go:build !(linux && (amd64 || arm64 || arm || 386 || riscv64))

package audio

import (
	"errors"
	"runtime"
)

func openKernelPCM(loc pcmLocation, dir direction, periodFrames int) (pcm, int, error) {
	return nil, 0, errors.New("ALSA is not supported on " + runtime.GOOS + "/" + runtime.GOARCH)
}
