package directory

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Employee statuses of the directory's record; an Employee as read shows
// its account's status instead (identity.UserInvited, UserActive,
// UserDeactivated) where the account is known.
const (
	StatusActive      = "active"
	StatusDeactivated = "deactivated"
)

// DateLayout is the layout of StartDate and LeaveDate: calendar dates in
// Hong Kong.
const DateLayout = "2006-01-02"

// Employee is a person's record in the directory. ID is their identity
// user ID. Phone, EmployeeNumber and LeaveDate are private: empty unless
// the reader may see them (PermReadPrivate).
type Employee struct {
	ID             string `json:"id"`
	NameEn         string `json:"nameEn,omitempty"`
	NameZh         string `json:"nameZh,omitempty"`
	Email          string `json:"email"`
	Phone          string `json:"phone,omitempty"` // E.164, e.g. +85291234567
	Title          string `json:"title,omitempty"`
	Rank           string `json:"rank,omitempty"`
	EmployeeNumber string `json:"employeeNumber,omitempty"`
	Department     string `json:"department,omitempty"`
	Manager        string `json:"manager,omitempty"` // explicit manager (user ID); "" follows the department heads
	StartDate      string `json:"startDate,omitempty"`
	LeaveDate      string `json:"leaveDate,omitempty"`
	Status         string `json:"status"`
	// DisplayName follows the company's format (computed on read).
	DisplayName   string    `json:"displayName,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	DeactivatedAt time.Time `json:"deactivatedAt,omitzero"`
	Version       int64     `json:"version"`
}

func (e Employee) stored() Employee {
	e.DisplayName, e.Version = "", 0
	return e
}

// sortKey orders employees by name, then ID.
func (e Employee) sortKey() string {
	name := e.NameEn
	if name == "" {
		name = e.NameZh
	}
	return strings.ToLower(name) + "\x00" + e.ID
}

// accountName is the name identity keeps for the account.
func (e Employee) accountName() string {
	if e.NameEn != "" {
		return e.NameEn
	}
	return e.NameZh
}

var textNoEmployee = i18n.Text{EN: "There is no such employee in your company.", ZH: "你的公司沒有此員工。"}

func noEmployee(op string, cause any) error {
	return problem.E(op, problem.NotFound, problem.Code("employee-not-found"), textNoEmployee, cause)
}

// Profile is the editable part of an employee record.
type Profile struct {
	NameEn, NameZh, Phone, Title, Rank, EmployeeNumber, Department, Manager, StartDate, LeaveDate string
}

// NewEmployee is an employee to create, with their account; or, with
// UserID, the record of an existing account (the first admin, people
// invited through identity's /v1/users), whose e-mail address it takes.
type NewEmployee struct {
	Profile
	Email  string
	Lang   i18n.Lang // of the invitation mail
	UserID string    // an existing account of the company; "" creates one
}

var (
	numberRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`) // at most 32 bytes, checked apart (cheaper to compile)
	e164RE    = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	hkLocalRE = regexp.MustCompile(`^[2-9][0-9]{7}$`)
)

// normalizePhone returns the number in E.164: spaces, dashes, dots and
// brackets are dropped, and eight-digit Hong Kong numbers get +852.
func normalizePhone(p string) (string, bool) {
	p = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -.()", r) {
			return -1
		}
		return r
	}, strings.TrimSpace(p))
	if hkLocalRE.MatchString(p) {
		p = "+852" + p
	}
	return p, e164RE.MatchString(p)
}

// checkProfile validates and normalises e's profile fields (not its
// department or manager, which need the stored state).
func checkProfile(f *fields, e *Employee) {
	e.NameEn, e.NameZh = strings.TrimSpace(e.NameEn), strings.TrimSpace(e.NameZh)
	e.Title, e.Rank = strings.TrimSpace(e.Title), strings.TrimSpace(e.Rank)
	e.EmployeeNumber = strings.TrimSpace(e.EmployeeNumber)
	if e.NameEn == "" && e.NameZh == "" {
		f.add("nameEn", "required", i18n.Text{EN: "an English or a Chinese name is required", ZH: "必須填寫英文或中文姓名"})
	}
	for _, x := range []struct{ field, v string }{{"nameEn", e.NameEn}, {"nameZh", e.NameZh}, {"title", e.Title}, {"rank", e.Rank}} {
		if utf8.RuneCountInString(x.v) > 100 {
			f.add(x.field, "too-long", msgTooLong100)
		}
	}
	if e.Phone != "" {
		p, ok := normalizePhone(e.Phone)
		if !ok {
			f.add("phone", "phone", i18n.Text{EN: "must be a phone number in international form, such as +852 9123 4567", ZH: "必須為國際格式的電話號碼，例如 +852 9123 4567"})
		}
		e.Phone = p
	}
	if e.EmployeeNumber != "" && (len(e.EmployeeNumber) > 32 || !numberRE.MatchString(e.EmployeeNumber)) {
		f.add("employeeNumber", "format", i18n.Text{EN: "must be up to 32 letters, digits and . _ / -", ZH: "最多 32 個英文字母、數字及 . _ / -"})
	}
	var start, leave time.Time
	for _, x := range []struct {
		field string
		v     string
		t     *time.Time
	}{{"startDate", e.StartDate, &start}, {"leaveDate", e.LeaveDate, &leave}} {
		if x.v == "" {
			continue
		}
		t, err := time.ParseInLocation(DateLayout, x.v, hongKong)
		if err != nil {
			f.add(x.field, "date", i18n.Text{EN: "must be a date such as 2026-11-25", ZH: "必須為日期，例如 2026-11-25"})
			continue
		}
		*x.t = t
	}
	if !start.IsZero() && !leave.IsZero() && leave.Before(start) {
		f.add("leaveDate", "before-start", i18n.Text{EN: "must not be before the start date", ZH: "不可早於入職日期"})
	}
}

// people is a company's employees by ID, with the tree.
type people struct {
	byID map[string]*Employee
	tree *tree
}

func (d *Directory) loadPeople(ctx context.Context, tenant string) (*people, error) {
	t, err := d.loadTree(ctx, tenant)
	if err != nil {
		return nil, err
	}
	emps, err := d.loadEmployees(ctx, tenant)
	if err != nil {
		return nil, err
	}
	p := &people{byID: make(map[string]*Employee, len(emps)), tree: t}
	for i := range emps {
		p.byID[emps[i].ID] = &emps[i]
	}
	return p, nil
}

// managers is e's chain of managers, nearest first: the explicit manager
// if set and active, else the head of e's department (unless that is e),
// else the head of the department above, and so on; then the same from
// the manager found. No one appears twice, deactivated people are passed
// over, and e is never in it.
func (p *people) managers(e *Employee) []*Employee {
	seen := map[string]bool{e.ID: true}
	var out []*Employee
	usable := func(id string) *Employee {
		m := p.byID[id]
		if id == "" || seen[id] || m == nil || m.Status == StatusDeactivated {
			return nil
		}
		return m
	}
	cur := e
	for len(out) < 10*MaxDepth {
		next := usable(cur.Manager)
		for dep, hops := cur.Department, 0; next == nil && dep != "" && hops <= MaxDepartments; hops++ {
			d := p.tree.byID[dep]
			if d == nil {
				break
			}
			next = usable(d.Head)
			dep = d.Parent
		}
		if next == nil {
			return out
		}
		seen[next.ID] = true
		out = append(out, next)
		cur = next
	}
	return out
}

// checkPlacement validates e's department and manager against the
// company's stored state.
func (p *people) checkPlacement(f *fields, e *Employee) {
	if e.Department != "" && p.tree.byID[e.Department] == nil {
		f.add("department", "not-found", msgNoDepartment)
	}
	if e.Manager == "" {
		return
	}
	m := p.byID[e.Manager]
	switch {
	case e.Manager == e.ID:
		f.add("manager", "self", i18n.Text{EN: "cannot be the employee themself", ZH: "不可為員工本人"})
		return
	case m == nil:
		f.add("manager", "not-found", msgNoEmployee)
		return
	case m.Status == StatusDeactivated:
		f.add("manager", "deactivated", i18n.Text{EN: "is deactivated", ZH: "已被停用"})
		return
	}
	// Would e be among the manager's own managers?
	saved := p.byID[e.ID]
	p.byID[e.ID] = e
	defer func() {
		if saved == nil {
			delete(p.byID, e.ID)
		} else {
			p.byID[e.ID] = saved
		}
	}()
	for _, up := range p.managers(m) {
		if up.ID == e.ID {
			f.add("manager", "cycle", i18n.Text{EN: "is managed, directly or not, by this employee", ZH: "直接或間接由此員工管理"})
			return
		}
	}
}

// touch rewrites a department unchanged with its version bumped, so that
// a concurrent delete of it fails (see the package comment).
func touch(tenant string, dep *Department) (table.Op, error) {
	return put(deptKey(tenant, dep.ID), stored(*dep), dep.Version+1, table.IfVersion(dep.Version))
}

func numberTaken(op string, cause error) error {
	return problem.E(op, problem.Conflict, problem.Code("employee-number-taken"), cause, i18n.Text{
		EN: "Another employee already has this employee number.", ZH: "此員工編號已屬於另一位員工。",
	}, problem.FieldError{Field: "employeeNumber", Code: "taken", Message: i18n.Text{EN: "is already taken", ZH: "已被使用"}})
}

// CreateEmployee creates an employee record and their account, in one
// transaction, and mails them an invitation to set a password. The
// admin's scope must hold the employee's department (no department:
// company-wide admins only).
func (d *Directory) CreateEmployee(ctx context.Context, a identity.Actor, in NewEmployee) (Employee, error) {
	const op = "directory.CreateEmployee"
	if err := authorize(a, PermRead, nil); err != nil {
		return Employee{}, err
	}
	for attempt := 1; ; attempt++ {
		p, err := d.loadPeople(ctx, a.Tenant)
		if err != nil {
			return Employee{}, storeErr(op, err)
		}
		if err := authorize(a, PermManage, p.tree.subtreeFunc(), in.Department); err != nil {
			return Employee{}, err
		}
		e := Employee{ID: identity.NewUserID(), NameEn: in.NameEn, NameZh: in.NameZh, Email: strings.TrimSpace(in.Email),
			Phone: in.Phone, Title: in.Title, Rank: in.Rank, EmployeeNumber: in.EmployeeNumber, Department: in.Department,
			Manager: in.Manager, StartDate: in.StartDate, LeaveDate: in.LeaveDate, Status: StatusActive, CreatedAt: d.Now().UTC()}
		var f fields
		var acct *identity.UserView
		if in.UserID != "" {
			v, err := d.Accounts.Account(ctx, a.Tenant, in.UserID)
			switch {
			case problem.KindOf(err) == problem.NotFound:
				f.add("userId", "not-found", i18n.Text{EN: "there is no such user", ZH: "沒有此用戶"})
			case err != nil:
				return Employee{}, problem.Wrap(op, err)
			case v.Status == identity.UserDeactivated:
				f.add("userId", "deactivated", i18n.Text{EN: "is deactivated", ZH: "已被停用"})
			case e.Email != "" && !strings.EqualFold(e.Email, v.Email):
				f.add("email", "mismatch", i18n.Text{EN: "must be the account's address, or left out", ZH: "必須與帳戶的電郵地址相同，或留空"})
			default:
				acct, e.ID, e.Email = &v, v.ID, v.Email
			}
		} else if e.Email == "" {
			f.add("email", "required", msgRequired)
		}
		checkProfile(&f, &e)
		p.checkPlacement(&f, &e)
		if err := f.err(op); err != nil {
			return Employee{}, err
		}
		e.Email = strings.ToLower(e.Email)
		empOp, err1 := put(employeeKey(a.Tenant, e.ID), e.stored(), 1, table.IfNotExists)
		if err := firstErr(err1); err != nil {
			return Employee{}, problem.E(op, problem.Internal, err)
		}
		extra := []table.Op{empOp}
		undo := []table.Op{{Delete: &empOp.Put.Key, Condition: table.IfVersion(1)}}
		numberAt := -1
		if e.EmployeeNumber != "" {
			claim, err := put(numberKey(a.Tenant, e.EmployeeNumber), numberClaim{Employee: e.ID}, 1, table.IfNotExists)
			if err != nil {
				return Employee{}, problem.E(op, problem.Internal, err)
			}
			numberAt = len(extra)
			extra = append(extra, claim)
			undo = append(undo, table.Op{Delete: &claim.Put.Key, Condition: table.IfVersion(1)})
		}
		if e.Department != "" {
			t, err := touch(a.Tenant, p.tree.byID[e.Department])
			if err != nil {
				return Employee{}, problem.E(op, problem.Internal, err)
			}
			extra = append(extra, t)
		}
		status := identity.UserInvited
		if acct != nil {
			status = acct.Status
			// The account stays as it is: still there and not deactivated
			// is all the record needs, and a later deactivation marks both.
			err = d.Store.Transact(ctx, extra)
		} else {
			_, err = d.Accounts.ProvisionUser(ctx, a, identity.Provision{ID: e.ID, Extra: extra, Undo: undo,
				Invitation: identity.Invitation{Email: e.Email, Name: e.accountName(), Lang: in.Lang}})
		}
		var tx *table.TxError
		switch {
		case err == nil:
		case acct != nil && errors.As(err, &tx) && tx.Index == 0:
			return Employee{}, problem.E(op, problem.Conflict, problem.Code("employee-exists"), err, i18n.Text{
				EN: "This user already has a directory record.", ZH: "此用戶已有組織資料記錄。",
			})
		case errors.As(err, &tx) && tx.Index == numberAt:
			return Employee{}, numberTaken(op, err)
		case errors.As(err, &tx) && attempt < maxAttempts:
			continue
		case acct != nil && isConditionFailed(err):
			return Employee{}, concurrentChange(op, err)
		case acct != nil:
			return Employee{}, storeErr(op, err)
		default:
			return Employee{}, problem.Wrap(op, err)
		}
		e.Version = 1
		d.publish(ctx, a.Tenant, a.User, EventEmployeeCreated, map[string]any{"employee": e.ID, "email": e.Email,
			"department": e.Department, "manager": e.Manager})
		return d.present(ctx, a, p, e, map[string]string{e.ID: status})
	}
}

// present is e as a may see it: display name, the account's status,
// private fields only for those who may read them.
func (d *Directory) present(ctx context.Context, a identity.Actor, p *people, e Employee, statuses map[string]string) (Employee, error) {
	s, err := d.loadSettings(ctx, a.Tenant)
	if err != nil {
		return Employee{}, storeErr("directory.present", err)
	}
	return p.present(a, s.DisplayNameFormat, e, statuses), nil
}

func (p *people) present(a identity.Actor, format string, e Employee, statuses map[string]string) Employee {
	var dep Department
	if x := p.tree.byID[e.Department]; x != nil {
		dep = *x
	}
	e.DisplayName = DisplayName(format, e, dep)
	if st, ok := statuses[e.ID]; ok && e.Status != StatusDeactivated {
		e.Status = st
	}
	if !mayReadPrivate(a, e, p.tree.subtreeFunc()) {
		e.Phone, e.EmployeeNumber, e.LeaveDate = "", "", ""
	}
	return e
}

func (d *Directory) statuses(ctx context.Context, tenant string, ids []string) map[string]string {
	if d.Accounts == nil || len(ids) == 0 {
		return nil
	}
	st, err := d.Accounts.AccountStatuses(ctx, tenant, ids)
	if err != nil {
		d.Log.ErrorContext(ctx, "account statuses not read", "tenant", tenant, "error", err.Error())
		return nil
	}
	return st
}

// Employee returns one employee as a may see them.
func (d *Directory) Employee(ctx context.Context, a identity.Actor, id string) (Employee, error) {
	const op = "directory.Employee"
	if err := authorize(a, PermRead, nil); err != nil {
		return Employee{}, err
	}
	p, e, err := d.peopleWith(ctx, op, a.Tenant, id)
	if err != nil {
		return Employee{}, err
	}
	return d.present(ctx, a, p, *e, d.statuses(ctx, a.Tenant, []string{id}))
}

// EmployeeChange is a change of an employee's profile; nil fields stay,
// "" clears a field.
type EmployeeChange struct {
	NameEn, NameZh, Phone, Title, Rank, EmployeeNumber, Department, Manager, StartDate, LeaveDate *string
	// Email is a new sign-in address: the account's moves with the record
	// (see identity.ChangeEmail). It cannot be cleared.
	Email *string
	// Version, when not 0, is the version the change was made on: a
	// record changed since is a 409 "version-conflict".
	Version int64
}

// onlyPhone reports whether ch changes the phone number and nothing else:
// what employees may do to their own record.
func (ch EmployeeChange) onlyPhone() bool {
	return ch.Phone != nil && ch.NameEn == nil && ch.NameZh == nil && ch.Title == nil && ch.Rank == nil &&
		ch.EmployeeNumber == nil && ch.Department == nil && ch.Manager == nil && ch.StartDate == nil && ch.LeaveDate == nil &&
		ch.Email == nil
}

// newEmail is the address ch moves e to, normalised, or "" when ch leaves
// the address as it is (also when it names the same address in another
// case: the record is stored lower-cased, as identity stores accounts).
func (ch EmployeeChange) newEmail(e Employee) string {
	if ch.Email == nil {
		return ""
	}
	email, _ := identity.NormalizeEmail(*ch.Email)
	if email == strings.ToLower(e.Email) {
		return ""
	}
	return email
}

var textOwnEmail = i18n.Text{
	EN: "You cannot change your own sign-in address. Ask a directory admin to change it: the old and the new address are both told.",
	ZH: "你不可更改自己的登入電郵地址。請聯絡組織管理員更改，新舊地址均會收到通知。",
}

// checkEmailChange refuses a move of e's address to email by a: not by
// the employee themself (an admin included: someone else confirms who
// they are), and not of a deactivated employee.
func checkEmailChange(op string, a identity.Actor, e Employee, email string) error {
	switch {
	case email == "":
		return nil
	case a.User == e.ID:
		return problem.E(op, problem.Forbidden, problem.Code("own-email"), textOwnEmail, "own address")
	case e.Status == StatusDeactivated:
		return problem.E(op, problem.Conflict, problem.Code(CodeDeactivated), i18n.Text{
			EN: "%s is deactivated: their sign-in address cannot be changed.", ZH: "%s 已被停用，不可更改其登入電郵地址。",
		}.Format(e.Email), problem.FieldError{Field: "email", Code: CodeDeactivated, Message: i18n.Text{EN: "is deactivated", ZH: "已被停用"}})
	}
	return nil
}

// UpdateEmployee changes an employee's profile. Directory admins whose
// scope holds the employee's department (and, for a move, the new one)
// change anything; employees change their own phone number.
func (d *Directory) UpdateEmployee(ctx context.Context, a identity.Actor, id string, ch EmployeeChange) (Employee, error) {
	const op = "directory.UpdateEmployee"
	if err := authorize(a, PermRead, nil); err != nil {
		return Employee{}, err
	}
	for attempt := 1; ; attempt++ {
		p, cur, err := d.peopleWith(ctx, op, a.Tenant, id)
		if err != nil {
			return Employee{}, err
		}
		email := ch.newEmail(*cur)
		asked := ch
		if email == "" {
			asked.Email = nil // the same address: no change, whoever sends it
		}
		if email != "" && a.User == id {
			return Employee{}, checkEmailChange(op, a, *cur, email)
		}
		scope := []string{cur.Department}
		if ch.Department != nil && *ch.Department != cur.Department && p.tree.byID[*ch.Department] != nil {
			scope = append(scope, *ch.Department)
		}
		if err := authorize(a, PermManage, p.tree.subtreeFunc(), scope...); err != nil && !(a.User == id && asked.onlyPhone()) {
			return Employee{}, err
		}
		if ch.Version != 0 && ch.Version != cur.Version {
			return Employee{}, versionConflict(op, cur.Version)
		}
		if err := checkEmailChange(op, a, *cur, email); err != nil {
			return Employee{}, err
		}
		e := *cur
		before := *cur
		if email != "" {
			e.Email = email
		}
		for _, x := range []struct {
			dst *string
			v   *string
		}{{&e.NameEn, ch.NameEn}, {&e.NameZh, ch.NameZh}, {&e.Phone, ch.Phone}, {&e.Title, ch.Title}, {&e.Rank, ch.Rank},
			{&e.EmployeeNumber, ch.EmployeeNumber}, {&e.Department, ch.Department}, {&e.Manager, ch.Manager},
			{&e.StartDate, ch.StartDate}, {&e.LeaveDate, ch.LeaveDate}} {
			if x.v != nil {
				*x.dst = *x.v
			}
		}
		var f fields
		if ch.Email != nil && strings.TrimSpace(*ch.Email) == "" {
			f.add("email", "required", msgRequired) // a sign-in address cannot be cleared
		}
		checkProfile(&f, &e)
		if e.Manager != before.Manager || e.Department != before.Department {
			p.checkPlacement(&f, &e)
		}
		if err := f.err(op); err != nil {
			return Employee{}, err
		}
		changed := changedFields(before, e)
		if len(changed) == 0 {
			return d.present(ctx, a, p, *cur, d.statuses(ctx, a.Tenant, []string{id}))
		}
		empOp, err := put(employeeKey(a.Tenant, id), e.stored(), cur.Version+1, table.IfVersion(cur.Version))
		if err != nil {
			return Employee{}, problem.E(op, problem.Internal, err)
		}
		ops := []table.Op{empOp}
		numberAt := -1
		if !strings.EqualFold(e.EmployeeNumber, before.EmployeeNumber) {
			if before.EmployeeNumber != "" {
				k := numberKey(a.Tenant, before.EmployeeNumber)
				ops = append(ops, table.Op{Delete: &k, Condition: table.IfExists})
			}
			if e.EmployeeNumber != "" {
				claim, err := put(numberKey(a.Tenant, e.EmployeeNumber), numberClaim{Employee: id}, 1, table.IfNotExists)
				if err != nil {
					return Employee{}, problem.E(op, problem.Internal, err)
				}
				numberAt = len(ops)
				ops = append(ops, claim)
			}
		}
		if e.Department != before.Department && e.Department != "" {
			t, err := touch(a.Tenant, p.tree.byID[e.Department])
			if err != nil {
				return Employee{}, problem.E(op, problem.Internal, err)
			}
			ops = append(ops, t)
		}
		if email != "" {
			// The account's address and the record, in one transaction.
			_, err = d.Accounts.ChangeEmail(ctx, a, identity.EmailChange{User: id, Email: email, Extra: ops})
		} else {
			err = d.Store.Transact(ctx, ops)
		}
		var tx *table.TxError
		switch {
		case err == nil:
		case errors.As(err, &tx) && tx.Index == numberAt:
			return Employee{}, numberTaken(op, err)
		case email != "" && !isConditionFailed(err):
			return Employee{}, problem.Wrap(op, err) // the address refused (taken, not on the domain) or a store failure
		case isConditionFailed(err) && attempt < maxAttempts:
			continue
		case isConditionFailed(err):
			return Employee{}, concurrentChange(op, err)
		default:
			return Employee{}, storeErr(op, err)
		}
		e.Version = cur.Version + 1
		p.byID[id] = &e
		data := map[string]any{"employee": id, "fields": changed}
		if email != "" {
			// Addresses are public in the directory; the trail keeps both.
			data["email"] = map[string]string{"from": before.Email, "to": e.Email}
		}
		d.publish(ctx, a.Tenant, a.User, EventEmployeeUpdated, data)
		return d.present(ctx, a, p, e, d.statuses(ctx, a.Tenant, []string{id}))
	}
}

// changedFields names the profile fields that differ (for the audit
// trail: names only, not the values, which may be private).
func changedFields(a, b Employee) []string {
	var out []string
	for _, x := range []struct {
		name string
		a, b string
	}{{"email", a.Email, b.Email}, {"nameEn", a.NameEn, b.NameEn}, {"nameZh", a.NameZh, b.NameZh}, {"phone", a.Phone, b.Phone}, {"title", a.Title, b.Title},
		{"rank", a.Rank, b.Rank}, {"employeeNumber", a.EmployeeNumber, b.EmployeeNumber}, {"department", a.Department, b.Department},
		{"manager", a.Manager, b.Manager}, {"startDate", a.StartDate, b.StartDate}, {"leaveDate", a.LeaveDate, b.LeaveDate}} {
		if x.a != x.b {
			out = append(out, x.name)
		}
	}
	return out
}

// DeactivateEmployee deactivates an employee and their account (sessions
// and refresh tokens revoked; access tokens refused from the next session
// check). A leave date not yet set becomes today. Doing it again changes
// nothing and reports nothing. The admin's scope must hold the employee's
// department; deactivating an admin needs a super admin.
func (d *Directory) DeactivateEmployee(ctx context.Context, a identity.Actor, id string) (Employee, error) {
	const op = "directory.DeactivateEmployee"
	if err := authorize(a, PermRead, nil); err != nil {
		return Employee{}, err
	}
	for attempt := 1; ; attempt++ {
		p, cur, err := d.peopleWith(ctx, op, a.Tenant, id)
		if err != nil {
			return Employee{}, err
		}
		if err := authorize(a, PermManage, p.tree.subtreeFunc(), cur.Department); err != nil {
			return Employee{}, err
		}
		if a.User == id {
			return Employee{}, problem.E(op, problem.Conflict, problem.Code("cannot-deactivate-self"), i18n.Text{
				EN: "You cannot deactivate yourself.", ZH: "你不可停用自己。",
			})
		}
		// The account first: once it is stopped, the record follows, and a
		// retry after a failure in between finishes the job.
		if _, err := d.Accounts.DeactivateUser(ctx, a, id); err != nil {
			return Employee{}, problem.Wrap(op, err)
		}
		if cur.Status == StatusDeactivated {
			return d.present(ctx, a, p, *cur, nil)
		}
		e := *cur
		now := d.Now()
		e.Status, e.DeactivatedAt = StatusDeactivated, now.UTC()
		if e.LeaveDate == "" {
			e.LeaveDate = now.In(hongKong).Format(DateLayout)
		}
		empOp, err := put(employeeKey(a.Tenant, id), e.stored(), cur.Version+1, table.IfVersion(cur.Version))
		if err == nil {
			err = d.Store.Put(ctx, *empOp.Put, empOp.Condition)
		}
		if isConditionFailed(err) && attempt < maxAttempts {
			continue
		} else if isConditionFailed(err) {
			return Employee{}, concurrentChange(op, err)
		} else if err != nil {
			return Employee{}, storeErr(op, err)
		}
		e.Version = cur.Version + 1
		d.publish(ctx, a.Tenant, a.User, EventEmployeeDeactivated, map[string]any{"employee": id, "leaveDate": e.LeaveDate})
		return d.present(ctx, a, p, e, nil)
	}
}

// Managers is the employee's chain of managers, nearest first (see
// Employee's Manager): the explicit manager, else the heads of the
// departments up the tree.
func (d *Directory) Managers(ctx context.Context, a identity.Actor, id string) ([]Employee, error) {
	const op = "directory.Managers"
	if err := authorize(a, PermRead, nil); err != nil {
		return nil, err
	}
	p, e, err := d.peopleWith(ctx, op, a.Tenant, id)
	if err != nil {
		return nil, err
	}
	chain := p.managers(e)
	ids := make([]string, len(chain))
	for i, m := range chain {
		ids[i] = m.ID
	}
	s, err := d.loadSettings(ctx, a.Tenant)
	if err != nil {
		return nil, storeErr(op, err)
	}
	st := d.statuses(ctx, a.Tenant, ids)
	out := make([]Employee, len(chain))
	for i, m := range chain {
		out[i] = p.present(a, s.DisplayNameFormat, *m, st)
	}
	return out, nil
}

// ResendInvitation mails an invited employee a new link to set their
// password, for directory admins whose scope holds the employee's
// department.
func (d *Directory) ResendInvitation(ctx context.Context, a identity.Actor, id string) (Employee, error) {
	const op = "directory.ResendInvitation"
	if err := authorize(a, PermRead, nil); err != nil {
		return Employee{}, err
	}
	p, cur, err := d.peopleWith(ctx, op, a.Tenant, id)
	if err != nil {
		return Employee{}, err
	}
	if err := authorize(a, PermManage, p.tree.subtreeFunc(), cur.Department); err != nil {
		return Employee{}, err
	}
	if _, err := d.Accounts.Reinvite(ctx, a, id); err != nil {
		return Employee{}, problem.Wrap(op, err)
	}
	return d.present(ctx, a, p, *cur, nil)
}

// peopleWith loads tenant's people and finds employee id among them: a
// storage problem, or a NotFound one when the company has no such
// employee.
func (d *Directory) peopleWith(ctx context.Context, op, tenant, id string) (*people, *Employee, error) {
	p, err := d.loadPeople(ctx, tenant)
	if err != nil {
		return nil, nil, storeErr(op, err)
	}
	e := p.byID[id]
	if e == nil {
		return nil, nil, noEmployee(op, "no employee "+id)
	}
	return p, e, nil
}
