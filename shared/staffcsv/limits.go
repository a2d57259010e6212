package staffcsv

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// widestRecord finds the first record with more than max fields and
// returns the line it starts on (1-based), or 0. It follows encoding/csv's
// quoting (with TrimLeadingSpace as set) closely enough to count fields, so
// that a line of millions of commas is refused before the CSV reader
// allocates a field for each. Where csv gives up on a line (a stray quote),
// so does the count.
func widestRecord(text string, delim rune, trimLeadingSpace bool, max int) int {
	if delim >= 0x80 { // all accepted delimiters are ASCII
		return 0
	}
	const (
		fieldStart = iota
		unquoted
		quoted
		afterQuote
	)
	sep := byte(delim)
	line, recLine, fields, state := 1, 1, 1, fieldStart
	skipLine := func(i int) int { // index of the next '\n', or len(text)
		if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
			return i + j
		}
		return len(text)
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' {
			line++
			if state != quoted {
				if fields > max {
					return recLine
				}
				recLine, fields, state = line, 1, fieldStart
			}
			continue
		}
		switch state {
		case fieldStart:
			switch {
			case c == '"':
				state = quoted
			case c == sep:
				fields++
			default:
				r, size := rune(c), 1
				if c >= utf8.RuneSelf {
					r, size = utf8.DecodeRuneInString(text[i:])
				}
				if trimLeadingSpace && unicode.IsSpace(r) { // as csv trims: a quote may follow
					i += size - 1
				} else {
					state = unquoted
				}
			}
		case unquoted:
			switch c {
			case sep:
				fields, state = fields+1, fieldStart
			case '"': // bare quote: csv drops the rest of the line
				i = skipLine(i) - 1
			}
		case quoted:
			if c == '"' {
				state = afterQuote
			}
		case afterQuote:
			switch c {
			case '"':
				state = quoted
			case sep:
				fields, state = fields+1, fieldStart
			case '\r':
			default: // text after a closing quote: csv drops the rest of the line
				i = skipLine(i) - 1
			}
		}
		if fields > max {
			return recLine
		}
	}
	return 0
}
