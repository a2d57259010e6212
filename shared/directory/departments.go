package directory

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Department is one department of a company's tree.
type Department struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	NameZh string `json:"nameZh,omitempty"`
	// Parent is the department above; "" for a top-level department.
	Parent string `json:"parent,omitempty"`
	// Head is the employee (user ID) who heads the department; "" for none.
	Head      string    `json:"head,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// Depth is 1 for a top-level department (computed on read).
	Depth   int   `json:"depth,omitempty"`
	Version int64 `json:"version"`
}

func sortDepartments(ids []string, byID map[string]*Department) {
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(cmp.Compare(strings.ToLower(byID[a].Name), strings.ToLower(byID[b].Name)), cmp.Compare(a, b))
	})
}

func (t *tree) view(id string) Department {
	dep := *t.byID[id]
	dep.Depth = t.depth(id)
	return dep
}

// stored is dep as its item holds it.
func stored(dep Department) Department {
	dep.Depth, dep.Version = 0, 0
	return dep
}

var (
	textNoDepartment = i18n.Text{EN: "There is no such department in your company.", ZH: "你的公司沒有此部門。"}
	msgRequired      = i18n.Text{EN: "is required", ZH: "必須填寫"}
	msgTooLong100    = i18n.Text{EN: "must be at most 100 characters", ZH: "不可超過 100 個字"}
	msgNoDepartment  = i18n.Text{EN: "there is no such department", ZH: "沒有此部門"}
	msgNoEmployee    = i18n.Text{EN: "there is no such employee", ZH: "沒有此員工"}
)

func noDepartment(op string, cause any) error {
	return problem.E(op, problem.NotFound, problem.Code("department-not-found"), textNoDepartment, cause)
}

// Departments lists the company's departments in tree order: each
// department before its sub-departments, siblings by name.
func (d *Directory) Departments(ctx context.Context, a identity.Actor) ([]Department, error) {
	const op = "directory.Departments"
	if err := authorize(a, PermRead, nil); err != nil {
		return nil, err
	}
	t, err := d.loadTree(ctx, a.Tenant)
	if err != nil {
		return nil, storeErr(op, err)
	}
	out := make([]Department, 0, len(t.byID))
	var walk func(parent string)
	walk = func(parent string) {
		for _, id := range t.children[parent] {
			out = append(out, t.view(id))
			walk(id)
		}
	}
	walk("")
	return out, nil
}

// Department returns one department.
func (d *Directory) Department(ctx context.Context, a identity.Actor, id string) (Department, error) {
	const op = "directory.Department"
	if err := authorize(a, PermRead, nil); err != nil {
		return Department{}, err
	}
	t, err := d.loadTree(ctx, a.Tenant)
	if err != nil {
		return Department{}, storeErr(op, err)
	}
	if t.byID[id] == nil {
		return Department{}, noDepartment(op, "no department "+id)
	}
	return t.view(id), nil
}

// NewDepartment is a department to create.
type NewDepartment struct {
	Name   string
	NameZh string
	Parent string // "" for a top-level department (company-wide admins only)
	Head   string // an employee's ID, or ""
}

func checkDepartmentName(f *fields, name, nameZh string) {
	switch {
	case strings.TrimSpace(name) == "":
		f.add("name", "required", msgRequired)
	case utf8.RuneCountInString(name) > 100:
		f.add("name", "too-long", msgTooLong100)
	}
	if utf8.RuneCountInString(nameZh) > 100 {
		f.add("nameZh", "too-long", msgTooLong100)
	}
}

// checkHead validates a head and returns the op checking, in the write's
// transaction, that the employee is still there.
func (d *Directory) checkHead(ctx context.Context, f *fields, tenant, head string) (*table.Op, error) {
	if head == "" {
		return nil, nil
	}
	e, err := d.loadEmployee(ctx, tenant, head)
	if isNotFound(err) {
		f.add("head", "not-found", msgNoEmployee)
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if e.Status == StatusDeactivated {
		f.add("head", "deactivated", i18n.Text{EN: "is deactivated", ZH: "已被停用"})
		return nil, nil
	}
	k := employeeKey(tenant, e.ID)
	return &table.Op{Check: &k, Condition: table.IfVersion(e.Version)}, nil
}

func siblingNamed(t *tree, parent, name, except string) bool {
	for _, id := range t.children[parent] {
		if id != except && strings.EqualFold(strings.TrimSpace(t.byID[id].Name), strings.TrimSpace(name)) {
			return true
		}
	}
	return false
}

func nameTaken(op, name string) error {
	return problem.E(op, problem.Conflict, problem.Code("department-name-taken"), i18n.Text{
		EN: "There is already a department called %s at that place in the tree.",
		ZH: "組織架構中同一位置已有名為「%s」的部門。",
	}.Format(name))
}

// treeWrite is the TREE item bumped, conditional on the version read.
func treeWrite(tenant string, t *tree, count int) (table.Op, error) {
	return put(treeKey(tenant), treeMark{Departments: count}, t.version+1, ifVersion(t.version))
}

// CreateDepartment adds a department under in.Parent (at most MaxDepth
// deep). Admins limited to a subtree create only inside it; top-level
// departments need a company-wide directory admin.
func (d *Directory) CreateDepartment(ctx context.Context, a identity.Actor, in NewDepartment) (Department, error) {
	const op = "directory.CreateDepartment"
	if err := authorize(a, PermRead, nil); err != nil {
		return Department{}, err
	}
	var f fields
	checkDepartmentName(&f, in.Name, in.NameZh)
	if err := f.err(op); err != nil {
		return Department{}, err
	}
	for attempt := 1; ; attempt++ {
		t, err := d.loadTree(ctx, a.Tenant)
		if err != nil {
			return Department{}, storeErr(op, err)
		}
		if in.Parent != "" && t.byID[in.Parent] == nil {
			f.add("parent", "not-found", msgNoDepartment)
			return Department{}, f.err(op)
		}
		if err := authorize(a, PermManage, t.subtreeFunc(), in.Parent); err != nil {
			return Department{}, err
		}
		if in.Parent != "" && t.depth(in.Parent)+1 > MaxDepth {
			return Department{}, tooDeep(op)
		}
		if len(t.byID) >= MaxDepartments {
			return Department{}, problem.E(op, problem.Conflict, problem.Code("too-many-departments"), i18n.Text{
				EN: "A company can have at most %d departments.", ZH: "每間公司最多可有 %d 個部門。",
			}.Format(MaxDepartments))
		}
		if siblingNamed(t, in.Parent, in.Name, "") {
			return Department{}, nameTaken(op, strings.TrimSpace(in.Name))
		}
		headCheck, err := d.checkHead(ctx, &f, a.Tenant, in.Head)
		if err != nil {
			return Department{}, storeErr(op, err)
		}
		if err := f.err(op); err != nil {
			return Department{}, err
		}
		dep := Department{ID: newID("d-"), Name: strings.TrimSpace(in.Name), NameZh: strings.TrimSpace(in.NameZh),
			Parent: in.Parent, Head: in.Head, CreatedAt: d.Now().UTC()}
		treeOp, err1 := treeWrite(a.Tenant, t, len(t.byID)+1)
		depOp, err2 := put(deptKey(a.Tenant, dep.ID), stored(dep), 1, table.IfNotExists)
		if err := firstErr(err1, err2); err != nil {
			return Department{}, problem.E(op, problem.Internal, err)
		}
		ops := []table.Op{treeOp, depOp}
		if headCheck != nil {
			ops = append(ops, *headCheck)
		}
		err = d.Store.Transact(ctx, ops)
		if isConditionFailed(err) && attempt < maxAttempts {
			continue
		} else if isConditionFailed(err) {
			return Department{}, concurrentChange(op, err)
		} else if err != nil {
			return Department{}, storeErr(op, err)
		}
		dep.Version, dep.Depth = 1, 1
		if in.Parent != "" {
			dep.Depth = t.depth(in.Parent) + 1
		}
		d.publish(ctx, a.Tenant, a.User, EventDepartmentCreated, map[string]any{
			"department": dep.ID, "name": dep.Name, "nameZh": dep.NameZh, "parent": dep.Parent, "head": dep.Head})
		return dep, nil
	}
}

func tooDeep(op string) error {
	return problem.E(op, problem.Conflict, problem.Code("department-too-deep"), i18n.Text{
		EN: "Departments can be at most %d levels deep.", ZH: "部門最多只可有 %d 層。",
	}.Format(MaxDepth))
}

// DepartmentChange is a change of a department; nil fields stay.
type DepartmentChange struct {
	Name   *string
	NameZh *string
	Parent *string // "" moves the department to the top level
	Head   *string // "" removes the head
	// Version, when not 0, is the version the change was made on: a
	// department changed since is a 409 "version-conflict".
	Version int64
}

// UpdateDepartment renames a department, moves it (never under itself or
// one of its sub-departments, and not deeper than MaxDepth) or changes its
// head. The admin's scope must hold the department, and for a move the new
// parent too.
func (d *Directory) UpdateDepartment(ctx context.Context, a identity.Actor, id string, ch DepartmentChange) (Department, error) {
	const op = "directory.UpdateDepartment"
	if err := authorize(a, PermRead, nil); err != nil {
		return Department{}, err
	}
	var f fields
	if ch.Name != nil || ch.NameZh != nil {
		name, nameZh := "x", ""
		if ch.Name != nil {
			name = *ch.Name
		}
		if ch.NameZh != nil {
			nameZh = *ch.NameZh
		}
		checkDepartmentName(&f, name, nameZh)
	}
	if err := f.err(op); err != nil {
		return Department{}, err
	}
	for attempt := 1; ; attempt++ {
		t, err := d.loadTree(ctx, a.Tenant)
		if err != nil {
			return Department{}, storeErr(op, err)
		}
		cur := t.byID[id]
		if cur == nil {
			return Department{}, noDepartment(op, "no department "+id)
		}
		if ch.Version != 0 && ch.Version != cur.Version {
			return Department{}, versionConflict(op, cur.Version)
		}
		scope := []string{id}
		if ch.Parent != nil && *ch.Parent != cur.Parent {
			if *ch.Parent != "" && t.byID[*ch.Parent] == nil {
				f.add("parent", "not-found", msgNoDepartment)
				return Department{}, f.err(op)
			}
			scope = append(scope, *ch.Parent)
		}
		if err := authorize(a, PermManage, t.subtreeFunc(), scope...); err != nil {
			return Department{}, err
		}
		dep := *cur
		var events []func()
		if ch.Name != nil || ch.NameZh != nil {
			before := map[string]string{"name": dep.Name, "nameZh": dep.NameZh}
			if ch.Name != nil {
				dep.Name = strings.TrimSpace(*ch.Name)
			}
			if ch.NameZh != nil {
				dep.NameZh = strings.TrimSpace(*ch.NameZh)
			}
			if before["name"] != dep.Name || before["nameZh"] != dep.NameZh {
				after := map[string]string{"name": dep.Name, "nameZh": dep.NameZh}
				events = append(events, func() {
					d.publish(ctx, a.Tenant, a.User, EventDepartmentRenamed, map[string]any{"department": id, "before": before, "after": after})
				})
			}
		}
		if ch.Parent != nil && *ch.Parent != dep.Parent {
			to := *ch.Parent
			if to == id || (to != "" && t.within(id, to)) {
				return Department{}, problem.E(op, problem.Conflict, problem.Code("department-cycle"), i18n.Text{
					EN: "A department cannot be moved under itself or one of its own sub-departments.",
					ZH: "部門不可移至其本身或其下屬部門之下。",
				}, problem.FieldError{Field: "parent", Code: "cycle", Message: i18n.Text{
					EN: "is this department or one of its sub-departments", ZH: "是此部門本身或其下屬部門"}})
			}
			newDepth := 1
			if to != "" {
				newDepth = t.depth(to) + 1
			}
			if newDepth+t.height(id)-1 > MaxDepth {
				return Department{}, tooDeep(op)
			}
			from := dep.Parent
			dep.Parent = to
			events = append(events, func() {
				d.publish(ctx, a.Tenant, a.User, EventDepartmentMoved, map[string]any{"department": id, "from": from, "to": to})
			})
		}
		if siblingNamed(t, dep.Parent, dep.Name, id) {
			return Department{}, nameTaken(op, dep.Name)
		}
		var headCheck *table.Op
		if ch.Head != nil && *ch.Head != dep.Head {
			if headCheck, err = d.checkHead(ctx, &f, a.Tenant, *ch.Head); err != nil {
				return Department{}, storeErr(op, err)
			}
			if err := f.err(op); err != nil {
				return Department{}, err
			}
			from, to := dep.Head, *ch.Head
			dep.Head = to
			events = append(events, func() {
				d.publish(ctx, a.Tenant, a.User, EventDepartmentHeadChanged, map[string]any{"department": id, "from": from, "to": to})
			})
		}
		if len(events) == 0 {
			return t.view(id), nil
		}
		treeOp, err1 := treeWrite(a.Tenant, t, len(t.byID))
		depOp, err2 := put(deptKey(a.Tenant, id), stored(dep), cur.Version+1, table.IfVersion(cur.Version))
		if err := firstErr(err1, err2); err != nil {
			return Department{}, problem.E(op, problem.Internal, err)
		}
		ops := []table.Op{treeOp, depOp}
		if headCheck != nil {
			ops = append(ops, *headCheck)
		}
		err = d.Store.Transact(ctx, ops)
		if isConditionFailed(err) && attempt < maxAttempts {
			continue
		} else if isConditionFailed(err) {
			return Department{}, concurrentChange(op, err)
		} else if err != nil {
			return Department{}, storeErr(op, err)
		}
		for _, e := range events {
			e()
		}
		t.byID[id] = &dep
		dep.Version = cur.Version + 1
		return t.view(id), nil
	}
}

// DeleteDepartment removes a department that has no sub-departments and
// no employees (deactivated ones included: move them first).
func (d *Directory) DeleteDepartment(ctx context.Context, a identity.Actor, id string) error {
	const op = "directory.DeleteDepartment"
	if err := authorize(a, PermRead, nil); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		t, err := d.loadTree(ctx, a.Tenant)
		if err != nil {
			return storeErr(op, err)
		}
		cur := t.byID[id]
		if cur == nil {
			return noDepartment(op, "no department "+id)
		}
		if err := authorize(a, PermManage, t.subtreeFunc(), id); err != nil {
			return err
		}
		if a.Department == id {
			return problem.E(op, problem.Forbidden, problem.Code("forbidden"), "the root of the actor's own scope", i18n.Text{
				EN: "You cannot delete the department your admin rights are limited to; ask a super admin.",
				ZH: "你不可刪除你的管理權限所屬的部門；請聯絡超級管理員。",
			})
		}
		notEmpty := func(what string) error {
			return problem.E(op, problem.Conflict, problem.Code("department-not-empty"), "department has "+what, i18n.Text{
				EN: "Only an empty department can be deleted: move its sub-departments and employees elsewhere first.",
				ZH: "只可刪除沒有下屬部門及員工的部門：請先把其下屬部門及員工調往其他部門。",
			})
		}
		if len(t.children[id]) > 0 {
			return notEmpty("sub-departments")
		}
		emps, err := d.loadEmployees(ctx, a.Tenant)
		if err != nil {
			return storeErr(op, err)
		}
		for _, e := range emps {
			if e.Department == id {
				return notEmpty("employees")
			}
		}
		treeOp, err := treeWrite(a.Tenant, t, len(t.byID)-1)
		if err != nil {
			return problem.E(op, problem.Internal, err)
		}
		k := deptKey(a.Tenant, id)
		err = d.Store.Transact(ctx, []table.Op{treeOp, {Delete: &k, Condition: table.IfVersion(cur.Version)}})
		if isConditionFailed(err) && attempt < maxAttempts {
			continue
		} else if isConditionFailed(err) {
			return concurrentChange(op, err)
		} else if err != nil {
			return storeErr(op, err)
		}
		d.publish(ctx, a.Tenant, a.User, EventDepartmentDeleted, map[string]any{"department": id, "name": cur.Name, "parent": cur.Parent})
		return nil
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// fields collects problems with the input.
type fields struct {
	list []problem.FieldError
}

func (f *fields) add(field, code string, msg i18n.Text) {
	f.list = append(f.list, problem.FieldError{Field: field, Code: code, Message: msg})
}

func (f *fields) err(op string) error {
	if len(f.list) == 0 {
		return nil
	}
	return problem.E(op, problem.Invalid, problem.Code("validation-failed"),
		i18n.Text{EN: "Some fields are not valid.", ZH: "部分欄位無效。"}, f.list)
}

func versionConflict(op string, current int64) error {
	return problem.E(op, problem.Conflict, problem.Code("version-conflict"), "stored version "+strconv.FormatInt(current, 10), i18n.Text{
		EN: "Someone changed this meanwhile. Reload it and make your change again.",
		ZH: "資料剛被其他人修改，請重新載入後再作更改。",
	})
}
