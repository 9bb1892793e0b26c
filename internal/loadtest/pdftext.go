package loadtest

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// PDFStrings extracts the text of a PDF in process: every string shown by a
// Tj or TJ operator, in content order, decoded through its font's ToUnicode
// map. It reads only what a text extractor such as pdftotext reads (page
// tree, fonts, content streams) and none of minwon's own metadata, so a
// document whose drawn text differs from what minwon meant to print is
// caught. It understands the subset of PDF that minwon's renderer writes
// (uncompressed object syntax, Flate streams, Type0 fonts with ToUnicode)
// and fails loudly on anything else rather than returning partial text.
//
// It exists because running pdftotext on every one of a million documents
// costs more CPU than issuing them; pdftotext still checks a sample.
func PDFStrings(pdf []byte) ([]string, error) {
	objs, err := parseObjects(pdf)
	if err != nil {
		return nil, err
	}
	root, ok := trailerRoot(pdf)
	if !ok {
		return nil, errors.New("pdf: no trailer /Root")
	}
	cat, ok := objs[root]
	if !ok {
		return nil, errors.New("pdf: missing catalog")
	}
	pagesRef, ok := refValue(cat.dict, "Pages")
	if !ok {
		return nil, errors.New("pdf: catalog without /Pages")
	}
	var pages []int
	if err := collectPages(objs, pagesRef, &pages, 0); err != nil {
		return nil, err
	}
	if len(pages) == 0 {
		return nil, errors.New("pdf: no pages")
	}
	cmaps := map[int]map[uint16]string{} // font object → code → text
	var out []string
	for _, pn := range pages {
		page := objs[pn]
		fonts, err := pageFonts(objs, page.dict)
		if err != nil {
			return nil, err
		}
		contents, ok := refValue(page.dict, "Contents")
		if !ok {
			return nil, fmt.Errorf("pdf: page %d has no single /Contents", pn)
		}
		c, ok := objs[contents]
		if !ok || c.stream == nil {
			return nil, fmt.Errorf("pdf: page %d contents missing", pn)
		}
		data, err := c.decoded()
		if err != nil {
			return nil, err
		}
		lookup := func(name string) (map[uint16]string, error) {
			ref, ok := fonts[name]
			if !ok {
				return nil, fmt.Errorf("pdf: font /%s not in page resources", name)
			}
			if m, ok := cmaps[ref]; ok {
				return m, nil
			}
			f, ok := objs[ref]
			if !ok {
				return nil, fmt.Errorf("pdf: font object %d missing", ref)
			}
			tu, ok := refValue(f.dict, "ToUnicode")
			if !ok {
				return nil, fmt.Errorf("pdf: font /%s has no ToUnicode map", name)
			}
			cm, ok := objs[tu]
			if !ok || cm.stream == nil {
				return nil, fmt.Errorf("pdf: ToUnicode %d missing", tu)
			}
			raw, err := cm.decoded()
			if err != nil {
				return nil, err
			}
			m, err := parseToUnicode(raw)
			if err != nil {
				return nil, err
			}
			cmaps[ref] = m
			return m, nil
		}
		strs, err := showStrings(data, lookup)
		if err != nil {
			return nil, fmt.Errorf("pdf: page %d: %w", pn, err)
		}
		out = append(out, strs...)
	}
	return out, nil
}

type pdfObject struct {
	dict   string // the object's dictionary (or whole body if not a stream)
	stream []byte // raw stream bytes, nil if none
}

func (o *pdfObject) decoded() ([]byte, error) {
	switch {
	case strings.Contains(o.dict, "/FlateDecode"):
		zr, err := zlib.NewReader(bytes.NewReader(o.stream))
		if err != nil {
			return nil, fmt.Errorf("pdf: inflate: %w", err)
		}
		defer zr.Close()
		b, err := io.ReadAll(io.LimitReader(zr, 64<<20))
		if err != nil {
			return nil, fmt.Errorf("pdf: inflate: %w", err)
		}
		return b, nil
	case strings.Contains(o.dict, "/Filter"):
		return nil, errors.New("pdf: unsupported stream filter")
	}
	return o.stream, nil
}

var (
	objHeaderRE = regexp.MustCompile(`(?m)^(\d+) 0 obj\s`)
	lengthRE    = regexp.MustCompile(`/Length (\d+)\b`)
	rootRE      = regexp.MustCompile(`/Root (\d+) 0 R`)
)

// parseObjects walks the file's objects in order, skipping each stream by
// its /Length so binary font data cannot be mistaken for syntax.
func parseObjects(pdf []byte) (map[int]*pdfObject, error) {
	objs := map[int]*pdfObject{}
	pos := 0
	for {
		loc := objHeaderRE.FindSubmatchIndex(pdf[pos:])
		if loc == nil {
			break
		}
		num, _ := strconv.Atoi(string(pdf[pos+loc[2] : pos+loc[3]]))
		start := pos + loc[1]
		end := bytes.Index(pdf[start:], []byte("endobj"))
		si := bytes.Index(pdf[start:], []byte("stream\n"))
		if end < 0 {
			return nil, fmt.Errorf("pdf: object %d not terminated", num)
		}
		o := &pdfObject{}
		if si >= 0 && si < end && !bytes.HasSuffix(pdf[start:start+si], []byte("end")) {
			o.dict = string(pdf[start : start+si])
			m := lengthRE.FindStringSubmatch(o.dict)
			if m == nil {
				return nil, fmt.Errorf("pdf: stream %d without a direct /Length", num)
			}
			n, _ := strconv.Atoi(m[1])
			ds := start + si + len("stream\n")
			if ds+n > len(pdf) {
				return nil, fmt.Errorf("pdf: stream %d runs past the end", num)
			}
			o.stream = pdf[ds : ds+n]
			rest := pdf[ds+n:]
			e := bytes.Index(rest, []byte("endobj"))
			if e < 0 || !bytes.Contains(rest[:e], []byte("endstream")) {
				return nil, fmt.Errorf("pdf: stream %d not terminated", num)
			}
			pos = ds + n + e + len("endobj")
		} else {
			o.dict = string(pdf[start : start+end])
			pos = start + end + len("endobj")
		}
		if _, dup := objs[num]; dup {
			return nil, fmt.Errorf("pdf: object %d defined twice (incremental updates are not expected)", num)
		}
		objs[num] = o
	}
	if len(objs) == 0 {
		return nil, errors.New("pdf: no objects")
	}
	return objs, nil
}

func trailerRoot(pdf []byte) (int, bool) {
	i := bytes.LastIndex(pdf, []byte("trailer"))
	if i < 0 {
		return 0, false
	}
	m := rootRE.FindSubmatch(pdf[i:])
	if m == nil {
		return 0, false
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n, true
}

// refValue returns the object number of "/Key N 0 R" in dict.
func refValue(dict, key string) (int, bool) {
	for rest := dict; ; {
		i := strings.Index(rest, "/"+key)
		if i < 0 {
			return 0, false
		}
		rest = rest[i+1+len(key):]
		if m := leadingRefRE.FindStringSubmatch(rest); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n, true
		}
	}
}

var leadingRefRE = regexp.MustCompile(`^\s+(\d+) 0 R`)

var (
	refRE       = regexp.MustCompile(`(\d+) 0 R`)
	pagesTypeRE = regexp.MustCompile(`/Type\s*/Pages\b`)
	pageTypeRE  = regexp.MustCompile(`/Type\s*/Page\b`)
	hexStrRE    = regexp.MustCompile(`<[^>]*>`)
)

func collectPages(objs map[int]*pdfObject, n int, out *[]int, depth int) error {
	if depth > 16 {
		return errors.New("pdf: page tree too deep")
	}
	o, ok := objs[n]
	if !ok {
		return fmt.Errorf("pdf: page tree node %d missing", n)
	}
	switch {
	case pagesTypeRE.MatchString(o.dict):
		i := strings.Index(o.dict, "/Kids")
		if i < 0 {
			return errors.New("pdf: /Pages without /Kids")
		}
		kids := o.dict[i+len("/Kids"):]
		open, close := strings.Index(kids, "["), strings.Index(kids, "]")
		if open < 0 || close < open {
			return errors.New("pdf: /Kids is not an array")
		}
		kids = kids[open+1 : close]
		for _, m := range refRE.FindAllStringSubmatch(kids, -1) {
			k, _ := strconv.Atoi(m[1])
			if err := collectPages(objs, k, out, depth+1); err != nil {
				return err
			}
		}
	case pageTypeRE.MatchString(o.dict):
		*out = append(*out, n)
	default:
		return fmt.Errorf("pdf: object %d is not a page tree node", n)
	}
	return nil
}

var fontEntryRE = regexp.MustCompile(`/([A-Za-z0-9_]+)\s+(\d+) 0 R`)

// pageFonts maps a page's font resource names to font objects.
func pageFonts(objs map[int]*pdfObject, pageDict string) (map[string]int, error) {
	i := strings.Index(pageDict, "/Font")
	if i < 0 {
		return nil, errors.New("pdf: page without /Font resources")
	}
	rest := pageDict[i+len("/Font"):]
	open := strings.Index(rest, "<<")
	close := strings.Index(rest, ">>")
	if open < 0 || close < open {
		return nil, errors.New("pdf: font resources are not an inline dictionary")
	}
	fonts := map[string]int{}
	for _, m := range fontEntryRE.FindAllStringSubmatch(rest[open+2:close], -1) {
		n, _ := strconv.Atoi(m[2])
		fonts[m[1]] = n
	}
	return fonts, nil
}

var (
	bfcharRE  = regexp.MustCompile(`<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>`)
	bfrangeRE = regexp.MustCompile(`<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>`)
)

// parseToUnicode reads the bfchar and bfrange sections of a CMap.
func parseToUnicode(cm []byte) (map[uint16]string, error) {
	s := string(cm)
	m := map[uint16]string{}
	for _, sec := range sections(s, "beginbfchar", "endbfchar") {
		for _, p := range bfcharRE.FindAllStringSubmatch(sec, -1) {
			code, err := strconv.ParseUint(p[1], 16, 16)
			if err != nil {
				return nil, fmt.Errorf("pdf: ToUnicode code %q", p[1])
			}
			txt, err := utf16Hex(p[2])
			if err != nil {
				return nil, err
			}
			m[uint16(code)] = txt
		}
	}
	for _, sec := range sections(s, "beginbfrange", "endbfrange") {
		for _, p := range bfrangeRE.FindAllStringSubmatch(sec, -1) {
			lo, err1 := strconv.ParseUint(p[1], 16, 16)
			hi, err2 := strconv.ParseUint(p[2], 16, 16)
			base, err3 := strconv.ParseUint(p[3], 16, 32)
			if err1 != nil || err2 != nil || err3 != nil || hi < lo || hi-lo > 0xFFFF || len(p[3]) > 4 {
				return nil, errors.New("pdf: unsupported ToUnicode range")
			}
			for c := lo; c <= hi; c++ {
				m[uint16(c)] = string(rune(base + c - lo))
			}
		}
	}
	if len(m) == 0 {
		return nil, errors.New("pdf: empty ToUnicode map")
	}
	return m, nil
}

func sections(s, begin, end string) []string {
	var out []string
	for {
		i := strings.Index(s, begin)
		if i < 0 {
			return out
		}
		s = s[i+len(begin):]
		j := strings.Index(s, end)
		if j < 0 {
			return out
		}
		out = append(out, s[:j])
		s = s[j+len(end):]
	}
}

func utf16Hex(h string) (string, error) {
	b, err := hex.DecodeString(h)
	if err != nil || len(b)%2 != 0 {
		return "", fmt.Errorf("pdf: ToUnicode value %q", h)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(u)), nil
}

// showStrings runs a content stream's text operators and returns each shown
// string. Only two-byte (Identity-H) codes are expected, as minwon writes.
func showStrings(content []byte, font func(string) (map[uint16]string, error)) ([]string, error) {
	var (
		out     []string
		operand []string // pending operands, as raw tokens
		cur     map[uint16]string
	)
	decode := func(tok string) (string, error) {
		if cur == nil {
			return "", errors.New("text shown before a font was selected")
		}
		if !strings.HasPrefix(tok, "<") {
			return "", errors.New("literal strings are not expected with a two-byte font")
		}
		b, err := hex.DecodeString(strings.Join(strings.Fields(tok[1:len(tok)-1]), ""))
		if err != nil || len(b)%2 != 0 {
			return "", fmt.Errorf("bad hex string")
		}
		var sb strings.Builder
		for i := 0; i < len(b); i += 2 {
			code := uint16(b[i])<<8 | uint16(b[i+1])
			t, ok := cur[code]
			if !ok {
				return "", fmt.Errorf("glyph %04X has no Unicode mapping", code)
			}
			sb.WriteString(t)
		}
		return sb.String(), nil
	}
	i := 0
	for i < len(content) {
		c := content[i]
		switch {
		case c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0:
			i++
		case c == '%':
			for i < len(content) && content[i] != '\n' {
				i++
			}
		case c == '<' && i+1 < len(content) && content[i+1] == '<':
			return nil, errors.New("inline dictionaries in content are not expected")
		case c == '<':
			j := bytes.IndexByte(content[i:], '>')
			if j < 0 {
				return nil, errors.New("unterminated hex string")
			}
			operand = append(operand, string(content[i:i+j+1]))
			i += j + 1
		case c == '(':
			return nil, errors.New("literal strings are not expected in minwon content")
		case c == '[':
			j := bytes.IndexByte(content[i:], ']')
			if j < 0 {
				return nil, errors.New("unterminated array")
			}
			operand = append(operand, string(content[i:i+j+1]))
			i += j + 1
		default:
			j := i
			for j < len(content) && !bytes.ContainsRune([]byte(" \n\r\t\f<([]/%"), rune(content[j])) {
				j++
			}
			if c == '/' {
				j = i + 1
				for j < len(content) && !bytes.ContainsRune([]byte(" \n\r\t\f<([]/%"), rune(content[j])) {
					j++
				}
			}
			tok := string(content[i:j])
			i = j
			if tok == "" {
				i++
				continue
			}
			if tok[0] == '/' || tok[0] == '-' || tok[0] == '.' || (tok[0] >= '0' && tok[0] <= '9') {
				operand = append(operand, tok)
				continue
			}
			switch tok {
			case "Tf":
				if len(operand) < 2 || !strings.HasPrefix(operand[len(operand)-2], "/") {
					return nil, errors.New("malformed Tf")
				}
				m, err := font(operand[len(operand)-2][1:])
				if err != nil {
					return nil, err
				}
				cur = m
			case "Tj", "'", "\"":
				if len(operand) == 0 {
					return nil, errors.New("text-showing operator without a string")
				}
				s, err := decode(operand[len(operand)-1])
				if err != nil {
					return nil, err
				}
				out = append(out, s)
			case "TJ":
				if len(operand) == 0 || !strings.HasPrefix(operand[len(operand)-1], "[") {
					return nil, errors.New("array-showing operator without an array")
				}
				arr := operand[len(operand)-1]
				var sb strings.Builder
				for _, m := range hexStrRE.FindAllString(arr, -1) {
					s, err := decode(m)
					if err != nil {
						return nil, err
					}
					sb.WriteString(s)
				}
				out = append(out, sb.String())
			}
			operand = operand[:0]
		}
	}
	return out, nil
}
