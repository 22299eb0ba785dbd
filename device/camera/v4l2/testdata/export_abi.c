/* Prints the V4L2 ABI values that export.go hard-codes, from the kernel's
   own header, for TestExportABIMatchesHeader. */
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <linux/videodev2.h>

#define P(name, v) printf("%s %lu\n", name, (unsigned long)(v))

int main(void) {
	P("sizeof v4l2_exportbuffer", sizeof(struct v4l2_exportbuffer));
	P("v4l2_exportbuffer.type", offsetof(struct v4l2_exportbuffer, type));
	P("v4l2_exportbuffer.index", offsetof(struct v4l2_exportbuffer, index));
	P("v4l2_exportbuffer.plane", offsetof(struct v4l2_exportbuffer, plane));
	P("v4l2_exportbuffer.flags", offsetof(struct v4l2_exportbuffer, flags));
	P("v4l2_exportbuffer.fd", offsetof(struct v4l2_exportbuffer, fd));
	P("VIDIOC_EXPBUF", VIDIOC_EXPBUF);
	P("V4L2_BUF_TYPE_VIDEO_CAPTURE", V4L2_BUF_TYPE_VIDEO_CAPTURE);
	return 0;
}
