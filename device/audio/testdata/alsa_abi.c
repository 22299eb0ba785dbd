/* Prints the ALSA kernel ABI values that alsa_linux.go hard-codes, from
   the kernel's own header, for TestKernelABIMatchesHeader. */
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sound/asound.h>

#define P(name, v) printf("%s %lu\n", name, (unsigned long)(v))

int main(void) {
	P("HW_REFINE", SNDRV_PCM_IOCTL_HW_REFINE);
	P("HW_PARAMS", SNDRV_PCM_IOCTL_HW_PARAMS);
	P("SW_PARAMS", SNDRV_PCM_IOCTL_SW_PARAMS);
	P("PREPARE", SNDRV_PCM_IOCTL_PREPARE);
	P("START", SNDRV_PCM_IOCTL_START);
	P("DROP", SNDRV_PCM_IOCTL_DROP);
	P("WRITEI_FRAMES", SNDRV_PCM_IOCTL_WRITEI_FRAMES);
	P("READI_FRAMES", SNDRV_PCM_IOCTL_READI_FRAMES);
	P("PREFER_SUBDEVICE", SNDRV_CTL_IOCTL_PCM_PREFER_SUBDEVICE);
	P("sizeof hw_params", sizeof(struct snd_pcm_hw_params));
	P("hw_params.intervals", offsetof(struct snd_pcm_hw_params, intervals));
	P("hw_params.rmask", offsetof(struct snd_pcm_hw_params, rmask));
	P("hw_params.fifo_size", offsetof(struct snd_pcm_hw_params, fifo_size));
	P("sizeof sw_params", sizeof(struct snd_pcm_sw_params));
	P("sw_params.avail_min", offsetof(struct snd_pcm_sw_params, avail_min));
	P("sw_params.boundary", offsetof(struct snd_pcm_sw_params, boundary));
	P("sw_params.proto", offsetof(struct snd_pcm_sw_params, proto));
	P("sizeof xferi", sizeof(struct snd_xferi));
	P("xferi.frames", offsetof(struct snd_xferi, frames));
	P("PARAM_CHANNELS", SNDRV_PCM_HW_PARAM_CHANNELS);
	P("PARAM_RATE", SNDRV_PCM_HW_PARAM_RATE);
	P("PARAM_PERIOD_SIZE", SNDRV_PCM_HW_PARAM_PERIOD_SIZE);
	P("PARAM_PERIODS", SNDRV_PCM_HW_PARAM_PERIODS);
	P("PARAM_BUFFER_SIZE", SNDRV_PCM_HW_PARAM_BUFFER_SIZE);
	P("PARAM_FIRST_INTERVAL", SNDRV_PCM_HW_PARAM_FIRST_INTERVAL);
	P("ACCESS_RW_INTERLEAVED", SNDRV_PCM_ACCESS_RW_INTERLEAVED);
	P("FORMAT_S16_LE", SNDRV_PCM_FORMAT_S16_LE);
	P("FORMAT_S32_LE", SNDRV_PCM_FORMAT_S32_LE);
	P("FORMAT_S24_3LE", SNDRV_PCM_FORMAT_S24_3LE);
	return 0;
}
