/* Prints the evdev and uinput ABI values that evdev.go and uinput.go
   hard-code, from the kernel's own headers, for TestInputABIMatchesHeader. */
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <linux/input.h>
#include <linux/uinput.h>

#define P(name, v) printf("%s %lu\n", name, (unsigned long)(v))

int main(void) {
	P("sizeof input_event", sizeof(struct input_event));
	P("input_event.type", offsetof(struct input_event, type));
	P("input_event.code", offsetof(struct input_event, code));
	P("input_event.value", offsetof(struct input_event, value));
	P("sizeof uinput_setup", sizeof(struct uinput_setup));
	P("uinput_setup.name", offsetof(struct uinput_setup, name));
	P("UINPUT_MAX_NAME_SIZE", UINPUT_MAX_NAME_SIZE);
	P("EVIOCGNAME(256)", EVIOCGNAME(256));
	P("UI_DEV_CREATE", UI_DEV_CREATE);
	P("UI_DEV_DESTROY", UI_DEV_DESTROY);
	P("UI_DEV_SETUP", UI_DEV_SETUP);
	P("UI_SET_EVBIT", UI_SET_EVBIT);
	P("UI_SET_KEYBIT", UI_SET_KEYBIT);
	P("EV_KEY", EV_KEY);
	P("KEY_MAX", KEY_MAX);
	P("BUS_VIRTUAL", BUS_VIRTUAL);
	return 0;
}
