package directory

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// DefaultDisplayNameFormat is the display name of a company that has not
// chosen one: 市場部-陳大文-經理.
const DefaultDisplayNameFormat = "{department}-{name}-{rank}"

// Placeholders of a display-name format:
//
//	{department}  the department's Chinese name if it has one, else its name
//	{name}        the Chinese name if there is one, else the English name
//	{nameEn}      the English name
//	{nameZh}      the Chinese name
//	{rank}        the rank
//	{title}       the title
var Placeholders = []string{"department", "name", "nameEn", "nameZh", "rank", "title"}

// Settings are the directory's settings of a company.
type Settings struct {
	DisplayNameFormat string `json:"displayNameFormat"`
	Version           int64  `json:"-"`
}

// displayFormat is a parsed format: literal parts around placeholders,
// len(lits) == len(names)+1.
type displayFormat struct {
	lits  []string
	names []string
}

// ValidDisplayNameFormat reports whether f is a display-name format:
// known placeholders only, at least one of the name placeholders, no stray
// braces, 1 to 100 characters.
func ValidDisplayNameFormat(f string) bool {
	_, ok := parseDisplayNameFormat(f)
	return ok
}

func parseDisplayNameFormat(f string) (displayFormat, bool) {
	var df displayFormat
	if strings.TrimSpace(f) == "" || utf8.RuneCountInString(f) > 100 {
		return df, false
	}
	rest, lit := f, ""
	hasName := false
	for rest != "" {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			lit += rest
			break
		}
		if rest[i] == '}' {
			return df, false
		}
		lit += rest[:i]
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return df, false
		}
		name := rest[i+1 : i+end]
		known := false
		for _, p := range Placeholders {
			known = known || p == name
		}
		if !known {
			return df, false
		}
		hasName = hasName || strings.HasPrefix(name, "name")
		df.lits = append(df.lits, lit)
		df.names = append(df.names, name)
		lit, rest = "", rest[i+end+1:]
	}
	df.lits = append(df.lits, lit)
	return df, hasName
}

// render fills the format. An empty value is dropped with the separator
// before it (or, for the first value, the one after it), so that
// "{department}-{name}-{rank}" with no rank is "市場部-陳大文".
func (df displayFormat) render(values map[string]string) string {
	var b strings.Builder
	b.WriteString(df.lits[0])
	first := true
	for i, name := range df.names {
		v := strings.TrimSpace(values[name])
		if v == "" {
			continue
		}
		if !first {
			b.WriteString(df.lits[i])
		}
		b.WriteString(v)
		first = false
	}
	b.WriteString(df.lits[len(df.lits)-1])
	return b.String()
}

// DisplayName is e's display name in format (the default when format is
// not valid), with department the name of e's department.
func DisplayName(format string, e Employee, department Department) string {
	df, ok := parseDisplayNameFormat(format)
	if !ok {
		df, _ = parseDisplayNameFormat(DefaultDisplayNameFormat)
	}
	dep := department.NameZh
	if dep == "" {
		dep = department.Name
	}
	name := e.NameZh
	if name == "" {
		name = e.NameEn
	}
	return df.render(map[string]string{"department": dep, "name": name, "nameEn": e.NameEn, "nameZh": e.NameZh,
		"rank": e.Rank, "title": e.Title})
}

func (d *Directory) loadSettings(ctx context.Context, tenant string) (Settings, error) {
	s := Settings{DisplayNameFormat: DefaultDisplayNameFormat}
	it, err := d.Store.Get(ctx, settingsKey(tenant))
	if isNotFound(err) {
		return s, nil
	} else if err != nil {
		return s, err
	}
	if err := json.Unmarshal(it.Data, &s); err != nil {
		return s, err
	}
	s.Version = it.Version
	return s, nil
}

// Settings returns the company's directory settings (every signed-in
// person may read them: apps render display names with them).
func (d *Directory) Settings(ctx context.Context, a identity.Actor) (Settings, error) {
	const op = "directory.Settings"
	if err := authorize(a, PermRead, nil); err != nil {
		return Settings{}, err
	}
	s, err := d.loadSettings(ctx, a.Tenant)
	if err != nil {
		return Settings{}, storeErr(op, err)
	}
	return s, nil
}

// SetDisplayNameFormat changes the company's display-name format
// (company-wide directory admins).
func (d *Directory) SetDisplayNameFormat(ctx context.Context, a identity.Actor, format string) (Settings, error) {
	const op = "directory.SetDisplayNameFormat"
	if err := authorize(a, PermSettings, nil); err != nil {
		return Settings{}, err
	}
	if _, ok := parseDisplayNameFormat(format); !ok {
		return Settings{}, problem.E(op, problem.Invalid, problem.Code("validation-failed"),
			i18n.Text{EN: "Some fields are not valid.", ZH: "部分欄位無效。"},
			problem.FieldError{Field: "displayNameFormat", Code: "format", Message: i18n.Text{
				EN: "must be up to 100 characters using only {department}, {name}, {nameEn}, {nameZh}, {rank} and {title}, with at least one name",
				ZH: "最多 100 個字，只可使用 {department}、{name}、{nameEn}、{nameZh}、{rank} 及 {title}，並最少包括一個姓名",
			}})
	}
	for attempt := 1; ; attempt++ {
		s, err := d.loadSettings(ctx, a.Tenant)
		if err != nil {
			return Settings{}, storeErr(op, err)
		}
		before := s.DisplayNameFormat
		s.DisplayNameFormat = format
		p, err := put(settingsKey(a.Tenant), s, s.Version+1, ifVersion(s.Version))
		if err == nil {
			err = d.Store.Put(ctx, *p.Put, p.Condition)
		}
		if isConditionFailed(err) && attempt < maxAttempts {
			continue
		} else if isConditionFailed(err) {
			return Settings{}, concurrentChange(op, err)
		} else if err != nil {
			return Settings{}, storeErr(op, err)
		}
		s.Version++
		d.publish(ctx, a.Tenant, a.User, EventDisplayNameFormatChanged, map[string]any{"before": before, "after": format})
		return s, nil
	}
}

func isNotFound(err error) bool        { return err != nil && errors.Is(err, table.ErrNotFound) }
func isConditionFailed(err error) bool { return err != nil && errors.Is(err, table.ErrConditionFailed) }
