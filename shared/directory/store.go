package directory

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

const (
	deptsPK     = "DEPTS"
	treeSK      = "TREE"
	employeesPK = "EMPLOYEES"
)

func treeKey(tenant string) table.Key { return table.Key{Tenant: tenant, PK: deptsPK, SK: treeSK} }

func deptKey(tenant, id string) table.Key {
	return table.Key{Tenant: tenant, PK: deptsPK, SK: "DEPT#" + id}
}

func employeeKey(tenant, id string) table.Key {
	return table.Key{Tenant: tenant, PK: employeesPK, SK: "EMP#" + id}
}

func numberKey(tenant, number string) table.Key {
	return table.Key{Tenant: tenant, PK: "EMPNO#" + strings.ToUpper(number), SK: "CLAIM"}
}

func settingsKey(tenant string) table.Key {
	return table.Key{Tenant: tenant, PK: "SETTINGS", SK: "DIRECTORY"}
}

// numberClaim says which employee holds an employee number.
type numberClaim struct {
	Employee string `json:"employee"`
}

// treeMark is the TREE item.
type treeMark struct {
	Departments int `json:"departments"`
}

func put(key table.Key, v any, version int64, cond table.Condition) (table.Op, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return table.Op{}, err
	}
	it := table.Item{Key: key, Version: version, Data: data}
	return table.Op{Put: &it, Condition: cond}, nil
}

// ifVersion is the condition of rewriting an item read at version v (0:
// not there).
func ifVersion(v int64) table.Condition {
	if v == 0 {
		return table.IfNotExists
	}
	return table.IfVersion(v)
}

// tree is a company's departments as read in one go, with the TREE
// item's version.
type tree struct {
	version  int64
	byID     map[string]*Department
	children map[string][]string // parent ("" top level) -> child IDs, by name
}

func (d *Directory) loadTree(ctx context.Context, tenant string) (*tree, error) {
	t := &tree{byID: map[string]*Department{}, children: map[string][]string{}}
	q := table.Query{Tenant: tenant, PK: deptsPK, Limit: table.MaxQueryLimit}
	for {
		page, err := d.Store.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			if it.SK == treeSK {
				t.version = it.Version
				continue
			}
			var dep Department
			if err := json.Unmarshal(it.Data, &dep); err != nil {
				return nil, fmt.Errorf("department item %s: %w", it.SK, err)
			}
			dep.Version = it.Version
			t.byID[dep.ID] = &dep
		}
		if page.Cursor == "" {
			break
		}
		q.Cursor = page.Cursor
	}
	for id, dep := range t.byID {
		t.children[dep.Parent] = append(t.children[dep.Parent], id)
	}
	for _, kids := range t.children {
		sortDepartments(kids, t.byID)
	}
	return t, nil
}

// ancestors are the departments above id, nearest first. A broken chain
// (a parent that is gone, or a loop) stops it.
func (t *tree) ancestors(id string) []string {
	var out []string
	seen := map[string]bool{id: true}
	dep := t.byID[id]
	for dep != nil && dep.Parent != "" && !seen[dep.Parent] {
		seen[dep.Parent] = true
		out = append(out, dep.Parent)
		dep = t.byID[dep.Parent]
	}
	return out
}

// within reports whether id is root or below it.
func (t *tree) within(root, id string) bool {
	if root == id {
		return t.byID[id] != nil
	}
	for _, a := range t.ancestors(id) {
		if a == root {
			return true
		}
	}
	return false
}

// depth of id: 1 for a top-level department.
func (t *tree) depth(id string) int { return len(t.ancestors(id)) + 1 }

// height of the subtree under id: 1 for a department with no children.
func (t *tree) height(id string) int {
	h := 0
	for _, c := range t.children[id] {
		h = max(h, t.height(c))
	}
	return h + 1
}

// subtree is id and every department below it.
func (t *tree) subtree(id string) map[string]bool {
	out := map[string]bool{}
	var walk func(string)
	walk = func(x string) {
		if out[x] {
			return
		}
		out[x] = true
		for _, c := range t.children[x] {
			walk(c)
		}
	}
	walk(id)
	return out
}

// employee is an Employee with its stored version.
func (d *Directory) loadEmployee(ctx context.Context, tenant, id string) (Employee, error) {
	it, err := d.Store.Get(ctx, employeeKey(tenant, id))
	if err != nil {
		return Employee{}, err
	}
	var e Employee
	if err := json.Unmarshal(it.Data, &e); err != nil {
		return Employee{}, fmt.Errorf("employee item %s: %w", it.SK, err)
	}
	e.Version = it.Version
	return e, nil
}

// loadEmployees reads every employee record of the company.
func (d *Directory) loadEmployees(ctx context.Context, tenant string) ([]Employee, error) {
	var out []Employee
	q := table.Query{Tenant: tenant, PK: employeesPK, SortOp: table.SortBeginsWith, Value: "EMP#", Limit: table.MaxQueryLimit}
	for {
		page, err := d.Store.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			var e Employee
			if err := json.Unmarshal(it.Data, &e); err != nil {
				return nil, fmt.Errorf("employee item %s: %w", it.SK, err)
			}
			e.Version = it.Version
			out = append(out, e)
		}
		if page.Cursor == "" {
			return out, nil
		}
		q.Cursor = page.Cursor
	}
}

// storeErr turns a storage failure into an internal problem, keeping
// problems (and their kinds) that are already there.
func storeErr(op string, err error) error {
	var pe *problem.Error
	if errors.As(err, &pe) {
		return problem.Wrap(op, err)
	}
	return problem.E(op, problem.Internal, err)
}

func concurrentChange(op string, cause error) error {
	return problem.E(op, problem.Conflict, problem.Code("concurrent-change"), cause, i18n.Text{
		EN: "The directory changed meanwhile; please try again.", ZH: "組織資料剛有變更，請再試一次。",
	})
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix + 16 random lower-case base32 characters (80 bits).
func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + idEncoding.EncodeToString(b[:])
}
