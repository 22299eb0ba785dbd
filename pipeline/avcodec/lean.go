package avcodec

/*
#include <libavcodec/avcodec.h>

// The Makefile defines CALLBOX_FFMPEG_LEAN when it points pkg-config at the
// FFmpeg of scripts/ffmpeg-lean.sh (only the decoders Callbox uses).
#ifdef CALLBOX_FFMPEG_LEAN
enum { callbox_ffmpeg_lean_wanted = 1 };
#else
enum { callbox_ffmpeg_lean_wanted = 0 };
#endif
*/
import "C"

// leanFFmpegWanted reports whether make built this package, which links the
// lean FFmpeg of scripts/ffmpeg-lean.sh instead of Debian's: Debian's
// libavcodec maps some ninety libraries into every process that decodes.
const leanFFmpegWanted = C.callbox_ffmpeg_lean_wanted == 1

// configuration is the configure line of the libavcodec in use.
func configuration() string { return C.GoString(C.avcodec_configuration()) }
