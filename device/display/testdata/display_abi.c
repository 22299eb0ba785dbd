/* Prints the DRM and frame buffer ABI values that drm_linux.go and
   fbdev_linux.go write out by hand, from the kernel's own headers, for
   TestKernelABIMatchesHeader. Built with -I/usr/include/libdrm. */
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <drm.h>
#include <drm_mode.h>
#include <linux/fb.h>

#define P(name, v) printf("%s %lu\n", name, (unsigned long)(v))

int main(void) {
	P("MODE_GETRESOURCES", DRM_IOCTL_MODE_GETRESOURCES);
	P("MODE_GETCRTC", DRM_IOCTL_MODE_GETCRTC);
	P("MODE_SETCRTC", DRM_IOCTL_MODE_SETCRTC);
	P("MODE_GETENCODER", DRM_IOCTL_MODE_GETENCODER);
	P("MODE_GETCONNECTOR", DRM_IOCTL_MODE_GETCONNECTOR);
	P("MODE_ADDFB", DRM_IOCTL_MODE_ADDFB);
	P("MODE_RMFB", DRM_IOCTL_MODE_RMFB);
	P("MODE_PAGE_FLIP", DRM_IOCTL_MODE_PAGE_FLIP);
	P("MODE_CREATE_DUMB", DRM_IOCTL_MODE_CREATE_DUMB);
	P("MODE_MAP_DUMB", DRM_IOCTL_MODE_MAP_DUMB);
	P("MODE_DESTROY_DUMB", DRM_IOCTL_MODE_DESTROY_DUMB);
	P("sizeof card_res", sizeof(struct drm_mode_card_res));
	P("card_res.count_connectors", offsetof(struct drm_mode_card_res, count_connectors));
	P("sizeof modeinfo", sizeof(struct drm_mode_modeinfo));
	P("modeinfo.vrefresh", offsetof(struct drm_mode_modeinfo, vrefresh));
	P("modeinfo.type", offsetof(struct drm_mode_modeinfo, type));
	P("modeinfo.name", offsetof(struct drm_mode_modeinfo, name));
	P("sizeof get_connector", sizeof(struct drm_mode_get_connector));
	P("get_connector.count_modes", offsetof(struct drm_mode_get_connector, count_modes));
	P("get_connector.connection", offsetof(struct drm_mode_get_connector, connection));
	P("sizeof get_encoder", sizeof(struct drm_mode_get_encoder));
	P("get_encoder.possible_crtcs", offsetof(struct drm_mode_get_encoder, possible_crtcs));
	P("sizeof crtc", sizeof(struct drm_mode_crtc));
	P("crtc.mode_valid", offsetof(struct drm_mode_crtc, mode_valid));
	P("crtc.mode", offsetof(struct drm_mode_crtc, mode));
	P("sizeof fb_cmd", sizeof(struct drm_mode_fb_cmd));
	P("sizeof page_flip", sizeof(struct drm_mode_crtc_page_flip));
	P("page_flip.user_data", offsetof(struct drm_mode_crtc_page_flip, user_data));
	P("sizeof create_dumb", sizeof(struct drm_mode_create_dumb));
	P("create_dumb.size", offsetof(struct drm_mode_create_dumb, size));
	P("sizeof map_dumb", sizeof(struct drm_mode_map_dumb));
	P("map_dumb.offset", offsetof(struct drm_mode_map_dumb, offset));
	P("TYPE_PREFERRED", DRM_MODE_TYPE_PREFERRED);
	P("PAGE_FLIP_EVENT", DRM_MODE_PAGE_FLIP_EVENT);
	P("EVENT_FLIP_COMPLETE", DRM_EVENT_FLIP_COMPLETE);
	P("FBIOGET_VSCREENINFO", FBIOGET_VSCREENINFO);
	P("FBIOGET_FSCREENINFO", FBIOGET_FSCREENINFO);
	P("sizeof fb_var", sizeof(struct fb_var_screeninfo));
	P("fb_var.bits_per_pixel", offsetof(struct fb_var_screeninfo, bits_per_pixel));
	P("fb_var.red", offsetof(struct fb_var_screeninfo, red));
	P("sizeof fb_fix", sizeof(struct fb_fix_screeninfo));
	P("fb_fix.smem_len", offsetof(struct fb_fix_screeninfo, smem_len));
	P("fb_fix.line_length", offsetof(struct fb_fix_screeninfo, line_length));
	return 0;
}
