package pipeline

// CodecFWHT is the Fast Walsh-Hadamard Transform codec of the kernel's
// vicodec test driver: the lab's stand-in for a hardware H.264 encoder. No
// WebRTC receiver decodes it, so it is never published to a call; it exists
// so the m2m code can be exercised and report honestly what it produces.
const CodecFWHT Codec = "FWHT"
