// Publishes a camera and a microphone from Debian's chromium with
// livekit-client, as a browser kiosk in a call would, for the bench's
// side-by-side runs with the box (internal/bench/network.go): the fake
// camera plays VIDEO (a y4m file), the fake microphone AUDIO (a wav
// file). It prints "published" once both tracks are sent, stays until its
// standard input closes, then prints one JSON line of what Chromium's
// statistics say it sent, and leaves.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { env, launchChromium } from './chromium.mjs';
const page = env('PAGE'); // any page on the bench's address: a secure origin for getUserMedia
const options = {
  url: env('LIVEKIT_URL'),
  token: env('TOKEN'),
  maxBitrate: Number(env('MAX_BITRATE')),
  width: Number(env('WIDTH')),
  height: Number(env('HEIGHT')),
  fps: Number(env('FPS')),
};
const livekit = readFileSync(createRequire(import.meta.url).resolve('livekit-client') /* its UMD build */, 'utf8');

const browser = await launchChromium(new URL(page).origin, [
  `--use-file-for-fake-video-capture=${env('VIDEO')}`,
  `--use-file-for-fake-audio-capture=${env('AUDIO')}`,
]);
let result = {};
try {
  const tab = await browser.newPage();
  tab.on('pageerror', (e) => process.stderr.write('page error: ' + e.message + '\n'));
  await tab.goto(page);
  await tab.addScriptTag({ content: livekit });
  await tab.evaluate(async (o) => {
    const { Room } = window.LivekitClient;
    // livekit-client's defaults for audio (Opus with RED and DTX); for
    // video what the box sends: one H.264 layer at the same size, rate
    // and most bits per second.
    const room = new Room({
      adaptiveStream: false,
      dynacast: false,
      videoCaptureDefaults: { resolution: { width: o.width, height: o.height, frameRate: o.fps } },
      publishDefaults: {
        videoCodec: 'h264',
        simulcast: false,
        backupCodec: false,
        videoEncoding: { maxBitrate: o.maxBitrate, maxFramerate: o.fps },
      },
    });
    window.benchRoom = room;
    await room.connect(o.url, o.token);
    await room.localParticipant.enableCameraAndMicrophone();
  }, options);
  process.stdout.write('published\n');
  // Until the bench is done with this run.
  await new Promise((resolve) => {
    process.stdin.on('end', resolve).on('close', resolve).resume();
  });
  result = await tab.evaluate(async () => {
    const out = {};
    for (const pub of window.benchRoom.localParticipant.trackPublications.values()) {
      const stats = await pub.track.getRTCStatsReport();
      stats?.forEach((s) => {
        if (s.type === 'outbound-rtp') {
          out[s.kind] = {
            frameWidth: s.frameWidth, frameHeight: s.frameHeight, framesPerSecond: s.framesPerSecond,
            qualityLimitationReason: s.qualityLimitationReason, targetBitrate: s.targetBitrate,
            retransmittedPacketsSent: s.retransmittedPacketsSent, nackCount: s.nackCount, pliCount: s.pliCount,
            mimeType: pub.mimeType,
          };
        }
      });
    }
    await window.benchRoom.disconnect();
    return out;
  });
} catch (e) {
  result = { error: e.stack || e.message };
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
