package render

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// font is a TrueType font parsed once; subsetting per document reads it
// without changing it, so one font serves every goroutine.
type font struct {
	name       string
	unitsPerEm int
	ascent     int // font units
	descent    int
	capHeight  int
	bbox       [4]int
	glyf       []byte
	loca       []uint32 // numGlyphs+1 offsets into glyf
	advance    []uint16 // per glyph
	cmap       []uint16 // BMP rune → glyph id
	tables     map[string][]byte
}

var errFont = errors.New("render: unsupported or malformed TrueType font")

func u16(b []byte, off int) int { return int(binary.BigEndian.Uint16(b[off:])) }
func i16(b []byte, off int) int { return int(int16(binary.BigEndian.Uint16(b[off:]))) }
func u32(b []byte, off int) int { return int(binary.BigEndian.Uint32(b[off:])) }

func parseFont(name string, data []byte) (f *font, err error) {
	defer func() {
		// Bounds are checked as the tables are read; a slice panic means
		// the font lied about its own layout.
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("%w: %s: %v", errFont, name, r)
		}
	}()
	if len(data) < 12 {
		return nil, errFont
	}
	n := u16(data, 4)
	tables := map[string][]byte{}
	for i := 0; i < n; i++ {
		rec := 12 + 16*i
		tag := string(data[rec : rec+4])
		off, length := u32(data, rec+8), u32(data, rec+12)
		tables[tag] = data[off : off+length]
	}
	for _, t := range []string{"head", "hhea", "hmtx", "maxp", "cmap", "loca", "glyf"} {
		if tables[t] == nil {
			return nil, fmt.Errorf("%w: %s lacks table %s", errFont, name, t)
		}
	}
	head, hhea, maxp := tables["head"], tables["hhea"], tables["maxp"]
	f = &font{name: name, tables: tables, glyf: tables["glyf"]}
	f.unitsPerEm = u16(head, 18)
	f.bbox = [4]int{i16(head, 36), i16(head, 38), i16(head, 40), i16(head, 42)}
	f.ascent, f.descent = i16(hhea, 4), i16(hhea, 6)
	f.capHeight = f.ascent * 7 / 10
	if os2 := tables["OS/2"]; len(os2) >= 90 && u16(os2, 0) >= 2 {
		f.capHeight = i16(os2, 88)
	}
	numGlyphs := u16(maxp, 4)
	numHMetrics := u16(hhea, 34)
	f.advance = make([]uint16, numGlyphs)
	hmtx := tables["hmtx"]
	last := 0
	for g := 0; g < numGlyphs; g++ {
		if g < numHMetrics {
			last = u16(hmtx, 4*g)
		}
		f.advance[g] = uint16(last)
	}
	loca := tables["loca"]
	f.loca = make([]uint32, numGlyphs+1)
	long := i16(head, 50) == 1
	for g := 0; g <= numGlyphs; g++ {
		if long {
			f.loca[g] = uint32(u32(loca, 4*g))
		} else {
			f.loca[g] = uint32(u16(loca, 2*g)) * 2
		}
	}
	if err := f.parseCmap(tables["cmap"]); err != nil {
		return nil, err
	}
	return f, nil
}

// parseCmap reads the Windows Unicode BMP subtable (format 4) into a flat
// table: one lookup per character when laying out text.
func (f *font) parseCmap(cmap []byte) error {
	n := u16(cmap, 2)
	var sub []byte
	for i := 0; i < n; i++ {
		rec := 4 + 8*i
		platform, encoding, off := u16(cmap, rec), u16(cmap, rec+2), u32(cmap, rec+4)
		if platform == 3 && encoding == 1 && u16(cmap, off) == 4 {
			sub = cmap[off:]
		}
	}
	if sub == nil {
		return fmt.Errorf("%w: %s has no Unicode BMP cmap", errFont, f.name)
	}
	f.cmap = make([]uint16, 0x10000)
	segs := u16(sub, 6) / 2
	ends, starts, deltas, offs := 14, 16+2*segs, 16+4*segs, 16+6*segs
	for s := 0; s < segs; s++ {
		end, start := u16(sub, ends+2*s), u16(sub, starts+2*s)
		delta, ro := u16(sub, deltas+2*s), u16(sub, offs+2*s)
		for c := start; c <= end && c < 0xFFFF; c++ {
			var g int
			if ro == 0 {
				g = (c + delta) & 0xFFFF
			} else {
				at := offs + 2*s + ro + 2*(c-start)
				if g = u16(sub, at); g != 0 {
					g = (g + delta) & 0xFFFF
				}
			}
			if g < len(f.advance) {
				f.cmap[c] = uint16(g)
			}
		}
	}
	return nil
}

// glyph returns the glyph id for r, 0 (.notdef) if the font lacks it.
func (f *font) glyph(r rune) uint16 {
	if r < 0 || r > 0xFFFF {
		return 0
	}
	return f.cmap[r]
}

// width returns the advance of r in 1/1000 em.
func (f *font) width(r rune) int {
	return int(f.advance[f.glyph(r)]) * 1000 / f.unitsPerEm
}

func (f *font) glyphData(g uint16) []byte {
	return f.glyf[f.loca[g]:f.loca[g+1]]
}

// Composite glyph flags (TrueType 'glyf').
const (
	argWords     = 0x0001
	haveScale    = 0x0008
	moreComps    = 0x0020
	haveXYScale  = 0x0040
	haveTwoByTwo = 0x0080
)

// components returns the offsets of the glyph-index fields of a composite
// glyph, so they can be read and rewritten.
func components(data []byte) []int {
	if len(data) < 10 || int16(binary.BigEndian.Uint16(data)) >= 0 {
		return nil
	}
	var out []int
	p := 10
	for {
		flags := u16(data, p)
		out = append(out, p+2)
		p += 4
		if flags&argWords != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&haveScale != 0:
			p += 2
		case flags&haveXYScale != 0:
			p += 4
		case flags&haveTwoByTwo != 0:
			p += 8
		}
		if flags&moreComps == 0 {
			return out
		}
	}
}

// subset is one document's use of a font: glyphs renumbered densely from 1
// (0 stays .notdef), so the embedded font holds only what is drawn.
type subset struct {
	f      *font
	newID  map[uint16]uint16
	old    []uint16 // new id → old id
	runeOf map[uint16]rune
}

func newSubset(f *font) *subset {
	return &subset{f: f, newID: map[uint16]uint16{0: 0}, old: []uint16{0}, runeOf: map[uint16]rune{}}
}

// add records glyph g (and the components of a composite) and returns its
// id in the subset.
func (s *subset) add(g uint16) uint16 {
	if id, ok := s.newID[g]; ok {
		return id
	}
	id := uint16(len(s.old))
	s.newID[g] = id
	s.old = append(s.old, g)
	data := s.f.glyphData(g)
	for _, at := range components(data) {
		s.add(uint16(u16(data, at)))
	}
	return id
}

// cid maps a rune to its subset glyph id, recording it for ToUnicode.
func (s *subset) cid(r rune) uint16 {
	id := s.add(s.f.glyph(r))
	if id != 0 {
		if _, ok := s.runeOf[id]; !ok {
			s.runeOf[id] = r
		}
	}
	return id
}

// font builds the subset TrueType file: head, hhea, maxp, hmtx, loca and
// glyf for the used glyphs, plus the hinting tables unchanged.
func (s *subset) font() []byte {
	f := s.f
	var glyf bytes.Buffer
	need := 0
	for _, g := range s.old {
		need += len(f.glyphData(g)) + 3
	}
	glyf.Grow(need)
	loca := make([]byte, 4*(len(s.old)+1))
	hmtx := make([]byte, 4*len(s.old))
	for id, g := range s.old {
		binary.BigEndian.PutUint32(loca[4*id:], uint32(glyf.Len()))
		data := f.glyphData(g)
		if comps := components(data); comps != nil {
			data = bytes.Clone(data)
			for _, at := range comps {
				binary.BigEndian.PutUint16(data[at:], s.newID[uint16(u16(data, at))])
			}
			glyf.Write(data)
		} else {
			writeUnhinted(&glyf, data)
		}
		for glyf.Len()%4 != 0 {
			glyf.WriteByte(0)
		}
		binary.BigEndian.PutUint16(hmtx[4*id:], f.advance[g])
	}
	binary.BigEndian.PutUint32(loca[4*len(s.old):], uint32(glyf.Len()))

	head := bytes.Clone(f.tables["head"])
	binary.BigEndian.PutUint32(head[8:], 0)  // checkSumAdjustment
	binary.BigEndian.PutUint16(head[50:], 1) // long loca
	hhea := bytes.Clone(f.tables["hhea"])
	binary.BigEndian.PutUint16(hhea[34:], uint16(len(s.old)))
	maxp := bytes.Clone(f.tables["maxp"])
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(s.old)))

	tables := map[string][]byte{"head": head, "hhea": hhea, "maxp": maxp, "hmtx": hmtx, "loca": loca, "glyf": glyf.Bytes()}
	for _, t := range []string{"cvt ", "fpgm", "prep"} {
		if d, ok := f.tables[t]; ok {
			tables[t] = d
		}
	}
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	var out bytes.Buffer
	hdr := make([]byte, 12+16*len(tags))
	size := len(hdr)
	for _, t := range tags {
		size += len(tables[t]) + 3
	}
	out.Grow(size)
	binary.BigEndian.PutUint32(hdr, 0x00010000)
	binary.BigEndian.PutUint16(hdr[4:], uint16(len(tags)))
	off := len(hdr)
	for i, t := range tags {
		d := tables[t]
		rec := hdr[12+16*i:]
		copy(rec, t)
		binary.BigEndian.PutUint32(rec[4:], checksum(d))
		binary.BigEndian.PutUint32(rec[8:], uint32(off))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(d)))
		off += (len(d) + 3) &^ 3
	}
	out.Write(hdr)
	for _, t := range tags {
		out.Write(tables[t])
		for out.Len()%4 != 0 {
			out.WriteByte(0)
		}
	}
	return out.Bytes()
}

// writeUnhinted writes a simple glyph without its hinting instructions.
// They are about 40% of Nanum Gothic's outline bytes, and a PDF is
// rasterised at print or screen resolution by viewers that hint (or not)
// on their own; dropping them makes every document about a third smaller,
// which is less to sign, store, log and send. The font programs (fpgm,
// prep, cvt) stay, for composite glyphs, which keep theirs.
func writeUnhinted(w *bytes.Buffer, data []byte) {
	if len(data) < 12 {
		w.Write(data) // empty glyph
		return
	}
	n := int(int16(u16(data, 0)))
	at := 10 + 2*n
	if n < 0 || at+2 > len(data) {
		w.Write(data)
		return
	}
	il := u16(data, at)
	if il == 0 || at+2+il > len(data) {
		w.Write(data)
		return
	}
	w.Write(data[:at])
	w.Write([]byte{0, 0})
	w.Write(data[at+2+il:])
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}
