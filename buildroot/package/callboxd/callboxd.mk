################################################################################
#
# callboxd
#
################################################################################

# Built from this checkout. buildroot/scripts/image.sh points
# CALLBOXD_OVERRIDE_SRCDIR at a copy with vendor/ filled in, because
# Buildroot builds Go offline (GOFLAGS=-mod=vendor, GOPROXY=off).
CALLBOXD_VERSION = local
CALLBOXD_SITE = $(BR2_EXTERNAL_CALLBOX_PATH)/..
CALLBOXD_SITE_METHOD = local
CALLBOXD_GOMOD = github.com/callbox/callbox
# Callbox's own code; callboxd as linked with x264 (GPL-2.0+, taken as
# GPL-3.0+ to go with Apache-2.0) is distributed under the GPL.
CALLBOXD_LICENSE = Apache-2.0, GPL-3.0+ (callboxd linked with x264)
CALLBOXD_LICENSE_FILES = LICENSE
# callboxctl: invites, revoke and screenshots on the box itself.
CALLBOXD_BUILD_TARGETS = cmd/callboxd cmd/callboxctl
# As the Makefile builds it (buildroot_test.go checks that the tags agree
# and that every library cgo links is a dependency here). dynamic:
# pion/mediadevices links the system's libopus and libvpx rather than
# copies of its own.
CALLBOXD_TAGS = dynamic
CALLBOXD_DEPENDENCIES = ffmpeg host-pkgconf jpeg-turbo libvpx opus speexdsp x264
# cgo: x264, libvpx, opus, speexdsp, libswscale, libavcodec and
# libturbojpeg are C libraries.
CALLBOXD_GO_ENV = \
	CGO_ENABLED=1 \
	PKG_CONFIG="$(PKG_CONFIG_HOST_BINARY)"

define CALLBOXD_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(CALLBOXD_PKGDIR)/callboxd.service \
		$(TARGET_DIR)/usr/lib/systemd/system/callboxd.service
endef

$(eval $(golang-package))
