package media

// BitReader reads a bitstream most significant bit first, as H.264's
// syntax is written (Exp-Golomb codes and all). A read past the end
// fails, and so does every read after it: parse, then ask Ok once.
type BitReader struct {
	b      []byte
	pos    int
	failed bool
}

// NewBitReader reads b from its first bit.
func NewBitReader(b []byte) *BitReader { return &BitReader{b: b} }

// Ok reports whether every read so far had its bits.
func (r *BitReader) Ok() bool { return !r.failed }

// Pos is the number of bits read.
func (r *BitReader) Pos() int { return r.pos }

// Bit reads one bit; 0 past the end.
func (r *BitReader) Bit() byte {
	if r.failed || r.pos >= len(r.b)*8 {
		r.failed = true
		return 0
	}
	v := r.b[r.pos/8] >> (7 - r.pos%8) & 1
	r.pos++
	return v
}

// Bits reads n bits (at most 32) as an unsigned number.
func (r *BitReader) Bits(n int) uint32 {
	var v uint32
	for range n {
		v = v<<1 | uint32(r.Bit())
	}
	return v
}

// UE reads an unsigned Exp-Golomb code (ue(v)); one longer than 32 bits
// fails.
func (r *BitReader) UE() uint32 {
	zeros := 0
	for r.Bit() == 0 {
		if r.failed || zeros == 31 {
			r.failed = true
			return 0
		}
		zeros++
	}
	return (1<<zeros | r.Bits(zeros)) - 1
}

// SE reads a signed Exp-Golomb code (se(v)).
func (r *BitReader) SE() int32 {
	k := r.UE()
	if k%2 == 1 {
		return int32(k/2 + 1)
	}
	return -int32(k / 2)
}
