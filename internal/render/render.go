// Package render turns an assembled certificate into an A4 PDF: Korean text
// in an embedded, per-document subset of Nanum Gothic (so the text is
// extractable and looks the same everywhere), tables, page breaks, and a QR
// code of the verification URL. Output is deterministic: the same Document
// gives the same bytes.
//
// Package render draws what it is given and nothing else; it returns every
// string it drew so pre-issuance verification can scan exactly that.
package render

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"crypto/sha256"
	_ "embed"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"rsc.io/qr"
)

//go:embed fonts/NanumGothic.ttf
var regularTTF []byte

//go:embed fonts/NanumGothicBold.ttf
var boldTTF []byte

// Document is what a certificate shows.
type Document struct {
	Title    string // e.g. 주민등록표 등본
	Subtitle string // e.g. Resident Registration Copy
	Number   string // issuance number as printed
	IssuedAt time.Time
	Issuer   string // the issuing authority, e.g. 국세청장
	// Statement is the attestation above the date and the issuer, e.g.
	// 위와 같이 증명합니다. Empty draws no attestation block and no seal.
	Statement string
	VerifyURL string // printed and encoded in the QR code
	// CheckCode is the document-check code as printed, under the number
	// on the first page; "" prints none.
	CheckCode string
	Sections  []Section
	Notes     []string // small print at the bottom
}

// Section is a heading with label/value rows and an optional table.
type Section struct {
	Heading string
	Rows    []Row
	Table   *Table
}

// Row is one label and its value.
type Row struct{ Label, Value string }

// Table is a ruled table.
type Table struct {
	Columns []string
	Rows    [][]string
}

// Output is a rendered document.
type Output struct {
	PDF  []byte
	Text []string // every string drawn, in drawing order
}

// Renderer holds the parsed fonts. It is safe for concurrent use.
type Renderer struct {
	regular, bold *font
}

// New parses the embedded fonts.
func New() (*Renderer, error) {
	r, err := parseFont("NanumGothic", regularTTF)
	if err != nil {
		return nil, err
	}
	b, err := parseFont("NanumGothicBold", boldTTF)
	if err != nil {
		return nil, err
	}
	return &Renderer{regular: r, bold: b}, nil
}

// A4 in points, and the layout's fixed measures.
const (
	pageW, pageH = 595.28, 841.89
	margin       = 50.0
	contentW     = pageW - 2*margin
	footerTop    = 150.0 // y above which body text stops (QR and notes below)
	labelW       = 170.0
)

// Render lays out and writes the document.
func (r *Renderer) Render(doc *Document) (*Output, error) {
	if err := checkUTF8(doc); err != nil {
		return nil, err
	}
	l := &layout{r: r, doc: doc, reg: newSubset(r.regular), bold: newSubset(r.bold)}
	l.body()
	return l.finish()
}

func checkUTF8(doc *Document) error {
	strs := []string{doc.Title, doc.Subtitle, doc.Number, doc.Issuer, doc.Statement, doc.VerifyURL, doc.CheckCode}
	strs = append(strs, doc.Notes...)
	for _, s := range doc.Sections {
		strs = append(strs, s.Heading)
		for _, row := range s.Rows {
			strs = append(strs, row.Label, row.Value)
		}
		if s.Table != nil {
			strs = append(strs, s.Table.Columns...)
			for _, row := range s.Table.Rows {
				strs = append(strs, row...)
			}
		}
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			return fmt.Errorf("render: text is not valid UTF-8")
		}
	}
	return nil
}

type page struct {
	content bytes.Buffer
}

type layout struct {
	r         *Renderer
	doc       *Document
	reg, bold *subset
	pages     []*page
	pg        *page // the page being drawn on
	y         float64
	text      []string
}

func (l *layout) cur() *page { return l.pg }

// text draws s at (x, y) in the given font and size.
func (l *layout) draw(x, y float64, s string, bold bool, size float64) {
	if s == "" {
		return
	}
	l.text = append(l.text, s)
	sub, name := l.reg, "F1"
	if bold {
		sub, name = l.bold, "F2"
	}
	c := &l.cur().content
	b := c.AvailableBuffer()
	b = append(b, "BT /"...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(appendFixed(b, size, 2), " Tf "...)
	b = append(appendFixed(b, x, 2), ' ')
	b = append(appendFixed(b, y, 2), " Td <"...)
	c.Write(b)
	const hexDigits = "0123456789ABCDEF"
	for _, r := range s {
		id := sub.cid(r)
		c.Write([]byte{hexDigits[id>>12], hexDigits[id>>8&15], hexDigits[id>>4&15], hexDigits[id&15]})
	}
	c.WriteString("> Tj ET\n")
}

func (l *layout) width(s string, bold bool, size float64) float64 {
	f := l.r.regular
	if bold {
		f = l.r.bold
	}
	w := 0
	for _, r := range s {
		w += f.width(r)
	}
	return float64(w) * size / 1000
}

// wrap splits s into lines no wider than w, breaking at spaces where it
// can and anywhere when a word alone is too wide.
func (l *layout) wrap(s string, bold bool, size, w float64) []string {
	if s == "" {
		return []string{""}
	}
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Split(para, " ") {
			cand := word
			if line != "" {
				cand = line + " " + word
			}
			if l.width(cand, bold, size) <= w {
				line = cand
				continue
			}
			if line != "" {
				lines = append(lines, line)
			}
			line = ""
			for _, r := range word {
				if l.width(line+string(r), bold, size) > w && line != "" {
					lines = append(lines, line)
					line = ""
				}
				line += string(r)
			}
		}
		lines = append(lines, line)
	}
	return lines
}

func (l *layout) rect(x, y, w, h float64, fill bool) {
	op := "S"
	if fill {
		op = "f"
	}
	c := &l.cur().content
	b := c.AvailableBuffer()
	for _, v := range []float64{x, y, w, h} {
		b = append(appendFixed(b, v, 2), ' ')
	}
	b = append(b, "re "...)
	b = append(b, op...)
	c.Write(append(b, '\n'))
}

func (l *layout) line(x1, y1, x2, y2 float64) {
	c := &l.cur().content
	b := c.AvailableBuffer()
	b = append(appendFixed(b, x1, 2), ' ')
	b = append(appendFixed(b, y1, 2), " m "...)
	b = append(appendFixed(b, x2, 2), ' ')
	b = append(appendFixed(b, y2, 2), " l S\n"...)
	c.Write(b)
}

func (l *layout) newPage() {
	l.pg = &page{}
	l.pages = append(l.pages, l.pg)
	c := &l.cur().content
	c.WriteString("0.2 G 1 w\n")
	l.rect(margin-14, margin-14, contentW+28, pageH-2*margin+28, false)
	c.WriteString("0.5 w 0 G\n")
	if len(l.pages) == 1 {
		l.y = pageH - margin - 28
		l.drawCentered(l.doc.Title, true, 22)
		l.y -= 20
		l.drawCentered(l.doc.Subtitle, false, 10.5)
		l.y -= 26
		l.draw(margin, l.y, "발급번호 (Issuance No.)  "+l.doc.Number, true, 10)
		date := l.doc.IssuedAt.Format("2006년 01월 02일") + " (" + l.doc.IssuedAt.Format("2006-01-02") + ")"
		l.draw(pageW-margin-l.width("발급일 "+date, false, 9.5), l.y, "발급일 "+date, false, 9.5)
		if l.doc.CheckCode != "" {
			l.y -= 15
			l.draw(margin, l.y, "문서확인번호 (Document check code)  "+l.doc.CheckCode, true, 10)
		}
		l.y -= 10
		l.line(margin, l.y, pageW-margin, l.y)
		l.y -= 22
		return
	}
	l.y = pageH - margin - 10
	l.draw(margin, l.y, l.doc.Title+" · 발급번호 "+l.doc.Number, false, 8.5)
	l.y -= 8
	l.line(margin, l.y, pageW-margin, l.y)
	l.y -= 20
}

func (l *layout) drawCentered(s string, bold bool, size float64) {
	l.draw((pageW-l.width(s, bold, size))/2, l.y, s, bold, size)
}

// need starts a new page unless h points fit above the footer.
func (l *layout) need(h float64) {
	if l.y-h < footerTop {
		l.newPage()
	}
}

// attestation closes the body the way paper forms do: the statement, the
// date, and the issuing authority with its seal (직인): a red square
// holding the authority's name, drawn, not an image of a real seal.
func (l *layout) attestation() {
	d := l.doc
	if d.Statement == "" {
		return
	}
	const sealSide = 46.0
	l.need(28 + 22 + sealSide)
	l.y -= 10
	for _, ln := range l.wrap(d.Statement, false, 10.5, contentW) {
		l.drawCentered(ln, false, 10.5)
		l.y -= 16
	}
	l.y -= 4
	kst := time.FixedZone("KST", 9*60*60)
	l.drawCentered(d.IssuedAt.In(kst).Format("2006년 1월 2일"), false, 10.5)
	l.y -= 30
	w := l.width(d.Issuer, true, 14)
	x := (pageW - w - sealSide) / 2
	l.draw(x, l.y, d.Issuer, true, 14)
	// The seal overlaps the end of the name, as a stamp does.
	sx, sy := x+w-6, l.y-sealSide/2+5
	c := &l.cur().content
	c.WriteString("q 0.78 0.08 0.08 RG 0.78 0.08 0.08 rg 1.6 w\n")
	l.rect(sx, sy, sealSide, sealSide, false)
	c.WriteString("0.6 w\n")
	l.rect(sx+3, sy+3, sealSide-6, sealSide-6, false)
	seal := sealLines(d.Issuer + "인")
	size := 9.0
	for _, ln := range seal {
		size = min(size, (sealSide-10)/l.width(ln, true, 1))
	}
	top := sy + sealSide/2 + float64(len(seal)-1)*size*0.6 - size*0.35
	for i, ln := range seal {
		l.draw(sx+(sealSide-l.width(ln, true, size))/2, top-float64(i)*size*1.2, ln, true, size)
	}
	c.WriteString("Q\n")
	l.y -= sealSide/2 + 6
}

// sealLines sets a name in a seal's square: at most three lines of equal
// length, spaces dropped.
func sealLines(name string) []string {
	r := []rune(strings.ReplaceAll(name, " ", ""))
	n := 1
	for n < 3 && (len(r)+n-1)/n > 3 {
		n++
	}
	per := (len(r) + n - 1) / n
	var out []string
	for len(r) > 0 {
		k := min(per, len(r))
		out = append(out, string(r[:k]))
		r = r[k:]
	}
	return out
}

func (l *layout) body() {
	defer l.attestation()
	l.newPage()
	for _, s := range l.doc.Sections {
		l.need(40)
		l.draw(margin, l.y, s.Heading, true, 11.5)
		l.y -= 18
		for _, row := range s.Rows {
			labels := l.wrap(row.Label, false, 9, labelW-16)
			lines := l.wrap(row.Value, false, 10, contentW-labelW)
			n := max(len(labels), len(lines))
			l.need(float64(n)*14 + 4)
			for k, ln := range labels {
				l.draw(margin+6, l.y-float64(k)*14, ln, false, 9)
			}
			for k, ln := range lines {
				l.draw(margin+labelW, l.y-float64(k)*14, ln, false, 10)
			}
			l.y -= float64(n)*14 + 3
		}
		if s.Table != nil {
			l.table(s.Table)
		}
		l.y -= 10
	}
}

// table draws a ruled table, repeating its header on every page.
func (l *layout) table(t *Table) {
	n := len(t.Columns)
	if n == 0 {
		return
	}
	const size, rowH = 8.5, 14.0
	// Column widths follow their widest cell, scaled to the content width.
	widths := make([]float64, n)
	for i, c := range t.Columns {
		widths[i] = l.width(c, true, size) + 10
	}
	for _, row := range t.Rows {
		for i := 0; i < n && i < len(row); i++ {
			widths[i] = max(widths[i], l.width(row[i], false, size)+10)
		}
	}
	total := 0.0
	for _, w := range widths {
		total += w
	}
	for i := range widths {
		widths[i] *= contentW / total
	}
	header := func() {
		l.need(2 * rowH)
		fmt.Fprintf(&l.cur().content, "0.92 g\n")
		l.rect(margin, l.y-4, contentW, rowH, true)
		fmt.Fprintf(&l.cur().content, "0 g\n")
		x := margin
		for i, c := range t.Columns {
			l.draw(x+4, l.y, c, true, size)
			x += widths[i]
		}
		l.y -= rowH
	}
	header()
	for _, row := range t.Rows {
		// A cell wider than its column wraps; the row grows to fit.
		cells := make([][]string, n)
		lines := 1
		for i := 0; i < n; i++ {
			v := ""
			if i < len(row) {
				v = row[i]
			}
			cells[i] = l.wrap(v, false, size, widths[i]-8)
			lines = max(lines, len(cells[i]))
		}
		h := float64(lines) * rowH
		if l.y-h < footerTop {
			l.newPage()
			header()
		}
		x := margin
		for i := 0; i < n; i++ {
			for k, ln := range cells[i] {
				l.draw(x+4, l.y-float64(k)*rowH, ln, false, size)
			}
			x += widths[i]
		}
		l.line(margin, l.y-h+rowH-4, pageW-margin, l.y-h+rowH-4)
		l.y -= h
	}
}

// footer draws the verification block on every page: URL, notes, page
// number, and the QR code on the first page.
func (l *layout) footer(code *qr.Code) {
	total := len(l.pages)
	for i, p := range l.pages {
		l.pg = p
		y := footerTop - 22
		l.line(margin, footerTop-8, pageW-margin, footerTop-8)
		if l.doc.VerifyURL != "" {
			l.draw(margin, y, "진위확인 (Verify): "+l.doc.VerifyURL, false, 8.5)
			y -= 13
		}
		l.draw(margin, y, l.doc.Issuer, true, 9)
		y -= 14
		for _, n := range l.doc.Notes {
			for _, ln := range l.wrap(n, false, 7, contentW-100) {
				l.draw(margin, y, ln, false, 7)
				y -= 10
			}
		}
		pn := fmt.Sprintf("%d / %d", i+1, total)
		l.draw((pageW-l.width(pn, false, 8))/2, margin-6, pn, false, 8)
		if i == 0 && code != nil {
			const side = 78.0
			x0, y0 := pageW-margin-side, footerTop-20-side
			scale := side / float64(code.Size+8) // 4-module quiet zone
			c := &l.cur().content
			c.WriteString("0 g\n")
			// One rectangle per horizontal run of dark modules, written
			// with strconv: a QR code has hundreds of modules and
			// formatting each with fmt was a tenth of a document's cost.
			var b []byte
			num := func(v float64, sep byte) {
				b = appendFixed(b, v, 3)
				b = append(b, sep)
			}
			for yy := 0; yy < code.Size; yy++ {
				for xx := 0; xx < code.Size; {
					if !code.Black(xx, yy) {
						xx++
						continue
					}
					run := 1
					for xx+run < code.Size && code.Black(xx+run, yy) {
						run++
					}
					num(x0+float64(xx+4)*scale, ' ')
					num(y0+side-float64(yy+5)*scale, ' ')
					num(float64(run)*scale, ' ')
					num(scale, ' ')
					b = append(b, "re\n"...)
					xx += run
				}
			}
			c.Write(b)
			c.WriteString("f\n")
		}
	}
}

func (l *layout) finish() (*Output, error) {
	var code *qr.Code
	if l.doc.VerifyURL != "" {
		var err error
		if code, err = qr.Encode(l.doc.VerifyURL, qr.M); err != nil {
			return nil, fmt.Errorf("render: QR code: %w", err)
		}
	}
	l.footer(code)
	pdf, err := l.write()
	if err != nil {
		return nil, err
	}
	return &Output{PDF: pdf, Text: l.text}, nil
}

// pdfWriter numbers objects and records their offsets for the xref table.
type pdfWriter struct {
	buf     bytes.Buffer
	offsets []int
}

func (w *pdfWriter) obj(n int, body string) {
	for len(w.offsets) <= n {
		w.offsets = append(w.offsets, 0)
	}
	w.offsets[n] = w.buf.Len()
	fmt.Fprintf(&w.buf, "%d 0 obj\n%s\nendobj\n", n, body)
}

// zlibWriters are reused: a compressor's state is about a megabyte, and
// allocating one per stream was most of the cost of a document.
var zlibWriters = sync.Pool{New: func() any {
	zw, _ := zlib.NewWriterLevel(nil, flate.BestSpeed)
	return zw
}}

// rawStream writes data uncompressed.
func (w *pdfWriter) rawStream(n int, dict string, data []byte) {
	for len(w.offsets) <= n {
		w.offsets = append(w.offsets, 0)
	}
	w.offsets[n] = w.buf.Len()
	fmt.Fprintf(&w.buf, "%d 0 obj\n<<%s /Length %d>>\nstream\n", n, dict, len(data))
	w.buf.Write(data)
	w.buf.WriteString("\nendstream\nendobj\n")
}

func (w *pdfWriter) stream(n int, dict string, data []byte) error {
	var z bytes.Buffer
	zw := zlibWriters.Get().(*zlib.Writer)
	defer zlibWriters.Put(zw)
	zw.Reset(&z)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		return err
	}
	for len(w.offsets) <= n {
		w.offsets = append(w.offsets, 0)
	}
	w.offsets[n] = w.buf.Len()
	fmt.Fprintf(&w.buf, "%d 0 obj\n<<%s /Filter /FlateDecode /Length %d>>\nstream\n", n, dict, z.Len())
	w.buf.Write(z.Bytes())
	w.buf.WriteString("\nendstream\nendobj\n")
	return nil
}

// SignatureSpace is the room, in bytes, the empty signature dictionary
// keeps for the CMS signature package docsig writes into it (about 2 KB
// with the certificate chain); byteRangeSpace the room for its byte range.
const (
	SignatureSpace = 4096
	byteRangeSpace = 40
)

// Object numbers: 1 catalog, 2 pages, 3 info, 4–8 regular font, 9–13 bold
// font, then two per page (page, content), then the signature field and its
// signature dictionary.
func (l *layout) write() ([]byte, error) {
	w := &pdfWriter{}
	w.buf.Grow(96 << 10)
	w.buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	// The signature field and its empty signature dictionary come last,
	// after the pages: package docsig fills them (see SignatureSpace).
	field, sigDict := 14+2*len(l.pages), 15+2*len(l.pages)
	w.obj(1, fmt.Sprintf("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%d 0 R] /SigFlags 3 >> >>", field))
	kids := make([]string, len(l.pages))
	for i := range l.pages {
		kids[i] = fmt.Sprintf("%d 0 R", 14+2*i)
	}
	w.obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(l.pages)))
	date := l.doc.IssuedAt.UTC().Format("20060102150405") + "Z"
	w.obj(3, fmt.Sprintf("<< /Title %s /Producer (minwon) /CreationDate (D:%s) >>", utf16Text(l.doc.Title), date))
	if err := l.writeFont(w, 4, l.reg); err != nil {
		return nil, err
	}
	if err := l.writeFont(w, 9, l.bold); err != nil {
		return nil, err
	}
	for i, p := range l.pages {
		pn, cn := 14+2*i, 15+2*i
		annots := ""
		if i == 0 {
			annots = fmt.Sprintf(" /Annots [%d 0 R]", field)
		}
		w.obj(pn, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /Font << /F1 4 0 R /F2 9 0 R >> >> /Contents %d 0 R%s >>", pageW, pageH, cn, annots))
		if err := w.stream(cn, "", p.content.Bytes()); err != nil {
			return nil, err
		}
	}
	// An invisible signature widget on the first page.
	w.obj(field, fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Sig /T (minwon) /F 132 /Rect [0 0 0 0] /P 14 0 R /V %d 0 R >>", sigDict))
	w.obj(sigDict, "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M (D:"+date+
		") /ByteRange ["+strings.Repeat(" ", byteRangeSpace)+"] /Contents <"+strings.Repeat("0", 2*SignatureSpace)+"> >>")
	xref := w.buf.Len()
	fmt.Fprintf(&w.buf, "xref\n0 %d\n0000000000 65535 f \n", len(w.offsets))
	for _, off := range w.offsets[1:] {
		fmt.Fprintf(&w.buf, "%010d 00000 n \n", off)
	}
	id := sha256.Sum256(w.buf.Bytes())
	fmt.Fprintf(&w.buf, "trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R /ID [<%x> <%x>] >>\nstartxref\n%d\n%%%%EOF\n", len(w.offsets), id[:16], id[:16], xref)
	return w.buf.Bytes(), nil
}

// writeFont writes a Type0 font with its CIDFontType2 descendant, font
// descriptor, embedded subset and ToUnicode map, as objects n..n+4.
func (l *layout) writeFont(w *pdfWriter, n int, s *subset) error {
	f := s.f
	scale := func(v int) int { return v * 1000 / f.unitsPerEm }
	tag := subsetTag(s)
	name := tag + "+" + f.name
	w.obj(n, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", name, n+1, n+4))
	widths := make([]byte, 0, 12*len(s.old))
	for id, g := range s.old {
		widths = appendInt(widths, int64(id))
		widths = append(widths, " ["...)
		widths = appendInt(widths, int64(scale(int(f.advance[g]))))
		widths = append(widths, "] "...)
	}
	w.obj(n+1, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /DW 1000 /W [%s] /CIDToGIDMap /Identity >>", name, n+2, widths))
	w.obj(n+2, fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags 4 /FontBBox [%d %d %d %d] /ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>",
		name, scale(f.bbox[0]), scale(f.bbox[1]), scale(f.bbox[2]), scale(f.bbox[3]), scale(f.ascent), scale(f.descent), scale(f.capHeight), n+3))
	// Glyph outlines barely compress (about 20%) and compressing them was
	// two thirds of a document's rendering time, so the subset goes raw.
	ttf := s.font()
	w.rawStream(n+3, fmt.Sprintf(" /Length1 %d", len(ttf)), ttf)
	return w.stream(n+4, "", toUnicode(s))
}

// subsetTag is six capital letters derived from the glyph set, as PDF
// requires for subset fonts.
func subsetTag(s *subset) string {
	h := sha256.New()
	for _, g := range s.old {
		fmt.Fprintf(h, "%d,", g)
	}
	sum := h.Sum(nil)
	b := make([]byte, 6)
	for i := range b {
		b[i] = 'A' + sum[i]%26
	}
	return string(b)
}

// toUnicode maps subset glyph ids back to characters for text extraction.
func toUnicode(s *subset) []byte {
	ids := make([]int, 0, len(s.runeOf))
	for id := range s.runeOf {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for i := 0; i < len(ids); i += 100 {
		chunk := ids[i:min(i+100, len(ids))]
		fmt.Fprintf(&b, "%d beginbfchar\n", len(chunk))
		for _, id := range chunk {
			line := append(b.AvailableBuffer(), '<')
			line = append(appendHex4(line, uint16(id)), "> <"...)
			line = append(appendHex4(line, uint16(s.runeOf[uint16(id)])), ">\n"...)
			b.Write(line)
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}

// utf16Text encodes s as a PDF text string (UTF-16BE with BOM, hex).
func utf16Text(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, r := range s {
		if r > 0xFFFF {
			r = 0xFFFD
		}
		fmt.Fprintf(&b, "%04X", r)
	}
	b.WriteString(">")
	return b.String()
}

// appendFixed appends v with exactly decimals digits after the point, as
// fmt's %.Nf would (halves round away from zero), without fmt: content
// streams hold thousands of coordinates and formatting them with fmt was a
// fifth of the cost of a document.
func appendFixed(b []byte, v float64, decimals int) []byte {
	scale := 1.0
	for i := 0; i < decimals; i++ {
		scale *= 10
	}
	n := int64(math.Round(v * scale))
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	unit := int64(scale)
	b = appendInt(b, n/unit)
	if decimals == 0 {
		return b
	}
	b = append(b, '.')
	frac := n % unit
	for d := unit / 10; d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return b
}

func appendInt(b []byte, n int64) []byte {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, buf[i:]...)
}

// appendHex4 appends v as four upper-case hex digits.
func appendHex4(b []byte, v uint16) []byte {
	const digits = "0123456789ABCDEF"
	return append(b, digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15])
}
