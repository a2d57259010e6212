package staffcsv

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encodings, as Sheet.Encoding reports them and Options.Encoding accepts
// them (without regard to case; "utf8", "utf-16", "big5" and "big5hkscs"
// are accepted too, "utf-16" letting a BOM choose the byte order and
// defaulting to little-endian as Excel writes it).
const (
	UTF8      = "UTF-8"
	UTF16LE   = "UTF-16LE"
	UTF16BE   = "UTF-16BE"
	Big5HKSCS = "Big5-HKSCS"
)

const utf16Either = "UTF-16"

func parseEncoding(name string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "":
		return "", nil
	case "utf-8", "utf8":
		return UTF8, nil
	case "utf-16le", "utf16le":
		return UTF16LE, nil
	case "utf-16be", "utf16be":
		return UTF16BE, nil
	case "utf-16", "utf16", "unicode":
		return utf16Either, nil
	case "big5", "big5-hkscs", "big5hkscs", "big5_hkscs":
		return Big5HKSCS, nil
	}
	return "", fmt.Errorf("staffcsv: unknown encoding %q (want %s, %s, %s or %s)", name, UTF8, UTF16LE, UTF16BE, Big5HKSCS)
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
	bomUTF32LE = []byte{0xFF, 0xFE, 0, 0}
	magicZIP   = []byte("PK\x03\x04")                                   // .xlsx
	magicOLE2  = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1} // .xls
)

// decodeText turns the file's bytes into UTF-8 text by the rules in the
// package documentation. forced is "" or a value from parseEncoding.
// Undecodable bytes come back as U+FFFD, to be reported on their field.
func (d *decoder) decodeText(data []byte, forced string) (string, bool) {
	s := d.sheet
	switch forced {
	case UTF8:
		s.Encoding = UTF8
		return toValidUTF8(bytes.TrimPrefix(data, bomUTF8)), true
	case UTF16LE, UTF16BE, utf16Either:
		s.Encoding = forced
		switch {
		case bytes.HasPrefix(data, bomUTF16LE) && forced != UTF16BE:
			s.Encoding, data = UTF16LE, data[2:]
		case bytes.HasPrefix(data, bomUTF16BE) && forced != UTF16LE:
			s.Encoding, data = UTF16BE, data[2:]
		case forced == utf16Either:
			s.Encoding = UTF16LE
		}
		return decodeUTF16(data, s.Encoding == UTF16BE), true
	case Big5HKSCS:
		s.Encoding = Big5HKSCS
		return decodeWith(traditionalchinese.Big5, data), true
	}

	switch {
	case bytes.HasPrefix(data, bomUTF8):
		s.Encoding = UTF8
		return toValidUTF8(data[3:]), true
	case bytes.HasPrefix(data, bomUTF32LE):
		d.fileProblem(CodeEncoding, msgUTF32)
		return "", false
	case bytes.HasPrefix(data, bomUTF16LE):
		s.Encoding = UTF16LE
		return decodeUTF16(data[2:], false), true
	case bytes.HasPrefix(data, bomUTF16BE):
		s.Encoding = UTF16BE
		return decodeUTF16(data[2:], true), true
	case bytes.HasPrefix(data, magicZIP), bytes.HasPrefix(data, magicOLE2):
		d.fileProblem(CodeNotText, msgWorkbook)
		return "", false
	}
	if even, odd := countNUL(data); even+odd > 0 {
		switch {
		case odd > 4*even:
			s.Encoding = UTF16LE
		case even > 4*odd:
			s.Encoding = UTF16BE
		default:
			d.fileProblem(CodeNotText, msgBinary)
			return "", false
		}
		d.sheet.Warnings = append(d.sheet.Warnings, Problem{Code: CodeEncodingGuessed, Message: msgGuessed(s.Encoding)})
		return decodeUTF16(data, s.Encoding == UTF16BE), true
	}
	if utf8.Valid(data) {
		s.Encoding = UTF8
		return string(data), true
	}
	if wellFormedBig5(data) {
		s.Encoding = Big5HKSCS
		return decodeWith(traditionalchinese.Big5, data), true
	}
	line := bytes.Count(data[:firstInvalidUTF8(data)], []byte{'\n'}) + 1
	d.sheet.Problems = append(d.sheet.Problems, Problem{Line: line, Code: CodeEncoding, Message: msgEncoding})
	return "", false
}

func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

func decodeUTF16(b []byte, bigEndian bool) string {
	order := unicode.LittleEndian
	if bigEndian {
		order = unicode.BigEndian
	}
	return decodeWith(unicode.UTF16(order, unicode.IgnoreBOM), b)
}

// decodeWith decodes b; the decoders used here replace what they cannot
// decode with U+FFFD and do not fail.
func decodeWith(e encoding.Encoding, b []byte) string {
	out, _, err := transform.Bytes(e.NewDecoder(), b)
	if err != nil {
		return "\uFFFD" // unreachable with these decoders; still reported as a bad character
	}
	return string(out)
}

// countNUL counts NUL bytes at even and odd offsets in the first 4 KiB.
func countNUL(b []byte) (even, odd int) {
	b = b[:min(len(b), 4096)]
	for i, c := range b {
		if c == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	return even, odd
}

// wellFormedBig5 reports whether every byte above 0x7F is the lead of a
// Big5 pair with a valid trail byte. It does not check that the pair is
// mapped.
func wellFormedBig5(b []byte) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x80 {
			continue
		}
		if c == 0x80 || c == 0xFF || i+1 == len(b) {
			return false
		}
		t := b[i+1]
		if !(0x40 <= t && t <= 0x7E || 0xA1 <= t && t <= 0xFE) {
			return false
		}
		i++
	}
	return true
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}
