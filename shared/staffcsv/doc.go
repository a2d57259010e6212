// Package staffcsv reads a company's staff list, as Hong Kong offices keep
// it in a spreadsheet, into validated rows. It is pure domain code: it
// neither stores nor looks anything up, so a dry run and the real import
// read a file the same way.
//
//	sheet, err := staffcsv.Decode(data, staffcsv.Options{}) // err only for bad Options
//	if len(sheet.Problems) > 0 { ... show every problem: line, column, reason ... }
//	for _, r := range sheet.Rows { ... }
//
// # Encoding
//
// Unless Options.Encoding names one, the encoding is chosen by these rules,
// in order:
//
//  1. A byte order mark decides: EF BB BF is UTF-8, FF FE UTF-16LE (Excel's
//     "Unicode Text"), FE FF UTF-16BE. FF FE 00 00 (UTF-32) is refused.
//  2. A workbook instead of a text file (.xlsx is a ZIP, .xls an OLE2
//     compound file) is refused with a hint to save it as CSV.
//  3. NUL bytes never occur in text: if the first 4 KiB hold some and they
//     sit more than four times as often at odd offsets as at even ones the
//     file is read as UTF-16LE without a BOM (the other way round, UTF-16BE),
//     with a warning; otherwise the file is refused as binary.
//  4. Bytes that are valid UTF-8 are UTF-8 (this includes plain ASCII, which
//     reads the same in every candidate).
//  5. Otherwise the file is Big5-HKSCS when every byte above 0x7F is a
//     well-formed Big5 pair (lead 0x81-0xFE, trail 0x40-0x7E or 0xA1-0xFE).
//     UTF-8 Chinese text almost never passes this test, since its
//     continuation bytes 0x80-0xA0 are not Big5 trail bytes. A well-formed
//     pair that Big5-HKSCS does not map (a company's private characters)
//     becomes U+FFFD and a problem on the field that holds it.
//  6. Anything else is refused, naming the line of the first byte that is
//     not UTF-8.
//
// Under any encoding a field holding U+FFFD, an invalid byte or a control
// character is a problem (code bad_character), never silently kept.
// Line endings may be CRLF, LF or, as old Excel for Mac wrote, CR alone.
//
// # Delimiter
//
// An Excel "sep=;" first line sets the delimiter and is skipped. Otherwise,
// unless Options.Delimiter names one, the first non-blank line decides: of
// TAB, comma and semicolon, the one that occurs most often outside double
// quotes, ties going in that order; a line with none of them is one column
// (comma).
//
// # Header and the one-column form
//
// The first non-blank record is the header when at least one of its cells,
// compared without case, spaces, punctuation or a bracketed hint such as
// "(dd/mm/yyyy)", is a known column name in English or Chinese (see
// HeaderNames). Otherwise the file may still be in the one-column form
// 部門-姓名-職級 without a header: the first record then has at most two
// fields, its first splits into department, name and rank, and its second,
// if any, is blank or holds an "@". In that form the second column is the
// email. A header may also name the one-column form (部門-姓名-職級 or
// Department-Name-Rank), next to other columns; a separate name, rank or
// department column wins over the parts of it. The one-column value splits
// on "-" (also "－" and "–"): the first part is the department (a path
// with "/"), the last the rank, everything between the name, so
// "技術部/後端組-Chan Tai-man-工程師" works.
//
// The 姓名 (name) column and the name in the one-column form go to
// Row.Name whatever their script; 中文姓名 goes to Row.ChineseName.
//
// # Values
//
// Every value is trimmed and NFC-normalized; names, titles and ranks have
// inner runs of white space collapsed. Emails, phones, employee numbers and
// dates have full-width ASCII (Ａ-Ｚ, ０-９, ＠) folded first. Emails are
// bare addresses (net/mail, a dot in the domain), lower-cased. Phones become
// E.164: eight digits starting 2-9 are a Hong Kong number (+852); others
// need "+" or "00" and a country code. Dates are 2025-11-03 (also with /),
// 3/11/2025 day first as Hong Kong Excel writes it (also with - or .),
// 3-Nov-2025 or 3 Nov 2025, and 2025年11月3日; a two-digit year follows
// Excel's rule (00-29 is 20xx, 30-99 is 19xx); a time of exactly midnight
// after the date is ignored. Department paths split on "/", "／", ">" and
// "＞".
//
// # Results
//
// Sheet.Rows holds only rows without a problem; a file is fit to import
// when Sheet.Problems is empty. Problems and warnings are sorted by line
// and column; Line is the line in the file (1-based, the line a field
// starts on), Column the spreadsheet column (1-based), and both are 0 when
// the problem concerns the whole file. The same email or employee number on
// several lines is a problem on each of them, naming the others.
//
// Limits: MaxBytes per file (before decoding, so a UTF-16 file holds half
// as much text), MaxRows data rows, MaxFieldChars characters per field,
// MaxColumns columns per record (counted before parsing, so a line of
// millions of commas costs nothing); going over one is a problem, never a
// panic. Decoding a 10 MB file of any shape takes well under a second.
package staffcsv
