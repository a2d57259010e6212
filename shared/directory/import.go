package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/staffcsv"
	"github.com/lantau-hq/lantau/shared/table"
)

// This file is the staff import: a decoded staff list (staffcsv) planned
// against the company as stored, then written in bulk.
//
// A plan loads the company once (tree, employees, the e-mail claims of the
// new addresses) and decides every row: create (an account and its record,
// or the record of an account the company already has without one, such
// as the first admin), update (the employee matched by e-mail, else by
// employee number: then the row moves their sign-in address, account and
// record together, see identity.ChangeEmail), or unchanged. It runs every check CreateEmployee and
// UpdateEmployee run (checkProfile, placement, unique employee numbers,
// addresses free in every company, the admin's department scope), and
// reports every problem with its line and column. Departments named by
// path (技術部/後端組) are found by name (English or Chinese, without case)
// and the missing ones are created, each once.
//
// The import writes only a plan without problems. Every write is
// conditional on what the plan read (IfNotExists, IfVersion), so an import
// that crashed half-way, or raced another change, converges when run again:
// a new plan finds what was written and has less to do. Only the fields
// the file has a column for change: an empty cell in a column clears the
// field, a column the file does not have leaves it.

// EventStaffImported is the directory's event of a finished import: the
// counts and, for imports of up to maxEventIDs people, who was created and
// updated. One event per import rather than one per employee keeps the bus
// and the audit chain from ten thousand appends for one file.
const EventStaffImported = "StaffImported"

const maxEventIDs = 500

// BulkAccounts is what an import needs of identity besides Accounts.
// *identity.Service implements it.
type BulkAccounts interface {
	CheckInvitations(ctx context.Context, tenant string, invs []identity.Invitation) ([]identity.InvitationCheck, error)
	CreateAccounts(ctx context.Context, a identity.Actor, ps []identity.Provision, shared []table.Op) (identity.Provisioned, *identity.Invitations, error)
	SendInvitations(ctx context.Context, inv *identity.Invitations) (failed []string)
}

// mailSenders is how many groups of invitations are mailed at once while
// the next batches are written; a group gathers the invitations of
// batches up to mailGroup people, so that a big import announces them in
// tens of events rather than hundreds.
const (
	mailSenders = 3
	mailGroup   = 200
)

var _ BulkAccounts = (*identity.Service)(nil)

// Problem codes of the plan, besides staffcsv's.
const (
	CodeOutOfScope      = "out_of_scope"      // the row's department is outside the admin's subtree
	CodeEmailTaken      = "email_taken"       // the address has an account in another company
	CodeEmailNotAllowed = "email_not_allowed" // not an address identity accepts (free mail, not the company's domain)
	CodeMatchConflict   = "match_conflict"    // e-mail and employee number name two different employees, or two rows one employee
	CodeManagerNotFound = "manager_not_found" // no employee (stored or in the file) with the manager's address
	CodeManagerInactive = "manager_inactive"  // the manager is deactivated
	CodeManagerCycle    = "manager_cycle"     // the manager is managed, directly or not, by the row's employee
	CodeDeactivated     = "deactivated"       // the row changes a deactivated employee or account
	CodeTooDeep         = "too_deep"          // the department path is deeper than MaxDepth
	CodeTooManyDepts    = "too_many_departments"
	CodeInvalid         = "invalid" // a value the directory refuses (see the message)
)

// ImportPlan is what an import of a file would do. The counts are the
// dry run's answer; Problems, when any, stop the import.
type ImportPlan struct {
	Rows                int      `json:"rows"`
	Creates             int      `json:"creates"`
	Updates             int      `json:"updates"`
	Unchanged           int      `json:"unchanged"`
	DepartmentsToCreate []string `json:"departmentsToCreate"` // paths, "技術部/後端組"
	// Changes are the updates, row by row, in the order of the file.
	Changes  []RowChange `json:"changes"`
	Problems []staffcsv.Problem
	Warnings []staffcsv.Problem

	p        *people
	newDepts []*Department // parents first
	creates  []*plannedCreate
	updates  []plannedUpdate
	sheet    *staffcsv.Sheet
	leaving  []string // employees with a leave date, before or after
}

type plannedCreate struct {
	e       Employee
	account bool // the account exists: write the record only
}

type plannedUpdate struct {
	before, after Employee
}

// moves reports whether u moves the employee's sign-in address.
func (u plannedUpdate) moves() bool { return u.before.Email != u.after.Email }

// RowChange is what an import changes of one stored employee: the names
// of the fields (as changedFields names them: "email", "rank", ...), and
// for a new sign-in address both addresses (addresses are public in the
// directory; the other values may be private and are not shown).
type RowChange struct {
	Line      int      `json:"line"`
	Employee  string   `json:"employee"`
	Fields    []string `json:"fields"`
	EmailFrom string   `json:"emailFrom,omitempty"`
	EmailTo   string   `json:"emailTo,omitempty"`
}

// Work is the number of writes the plan needs, in units of departments and
// employees (what progress counts).
func (pl *ImportPlan) Work() int { return len(pl.newDepts) + len(pl.creates) + len(pl.updates) }

// ImportResult is what an import did.
type ImportResult struct {
	Rows               int      `json:"rows"`
	Created            int      `json:"created"`
	Updated            int      `json:"updated"`
	Unchanged          int      `json:"unchanged"`
	DepartmentsCreated int      `json:"departmentsCreated"`
	InvitationsFailed  []string `json:"invitationsFailed,omitempty"` // addresses to invite again
}

// ImportOptions are the options of Import.
type ImportOptions struct {
	Lang i18n.Lang // of the invitation mails
	// Job names the import in its event.
	Job string
	// Progress, if set, is told after each transaction how many of the
	// work units are done.
	Progress func(done, total int)
}

var textImportForbidden = i18n.Text{EN: "Only directory admins can import or export staff.", ZH: "只有組織管理員可匯入或匯出員工資料。"}

// AuthorizeImport is nil when a may import staff (and export the
// directory): a directory admin, company-wide or of a department.
func (d *Directory) AuthorizeImport(ctx context.Context, a identity.Actor) error {
	const op = "directory.AuthorizeImport"
	if err := authorize(a, PermRead, nil); err != nil {
		return err
	}
	if !a.Administers(identity.AreaDirectory) {
		return problem.E(op, problem.Forbidden, problem.Code("forbidden"), textImportForbidden, "not a directory admin")
	}
	return d.Authorize(ctx, a, PermManage, a.Department)
}

// PlanImport plans the import of sheet (decoded by staffcsv) by a, writing
// nothing: the dry run. The file's own problems come first; the plan's are
// added to them. It fails only when a may not import at all or the store
// fails.
func (d *Directory) PlanImport(ctx context.Context, a identity.Actor, sheet *staffcsv.Sheet) (*ImportPlan, error) {
	const op = "directory.PlanImport"
	if err := d.AuthorizeImport(ctx, a); err != nil {
		return nil, err
	}
	p, err := d.loadPeople(ctx, a.Tenant)
	if err != nil {
		return nil, storeErr(op, err)
	}
	pl := &ImportPlan{Rows: len(sheet.Rows), p: p, sheet: sheet, DepartmentsToCreate: []string{}, Changes: []RowChange{},
		Problems: slices.Clone(sheet.Problems), Warnings: slices.Clone(sheet.Warnings)}
	if err := d.plan(ctx, a, pl); err != nil {
		return nil, problem.Wrap(op, err)
	}
	slices.SortStableFunc(pl.Problems, func(x, y staffcsv.Problem) int {
		if x.Line != y.Line {
			return x.Line - y.Line
		}
		return x.Column - y.Column
	})
	if pl.Rows == 0 && len(pl.Problems) == 0 {
		pl.Problems = append(pl.Problems, staffcsv.Problem{Code: staffcsv.CodeNoRows,
			Message: i18n.Text{EN: "The file has no staff.", ZH: "檔案沒有員工資料。"}})
	}
	return pl, nil
}

// column is the 1-based column of field in the file (0: none).
func (pl *ImportPlan) column(field string) int {
	if c := pl.sheet.Columns[field]; c > 0 {
		return c
	}
	switch field {
	case staffcsv.FieldName, staffcsv.FieldRank, staffcsv.FieldDepartment:
		return pl.sheet.Columns[staffcsv.FieldOneColumn]
	}
	return 0
}

func (pl *ImportPlan) has(field string) bool { return pl.column(field) > 0 }

func (pl *ImportPlan) problem(line int, field, code string, msg i18n.Text) {
	col := pl.column(field)
	if col == pl.sheet.Columns[staffcsv.FieldOneColumn] && col > 0 {
		field = staffcsv.FieldOneColumn
	}
	pl.Problems = append(pl.Problems, staffcsv.Problem{Line: line, Column: col, Field: field, Code: code, Message: msg})
}

// profileFields maps checkProfile's field names to the file's.
var profileFields = map[string]string{
	"nameEn": staffcsv.FieldName, "nameZh": staffcsv.FieldChineseName, "phone": staffcsv.FieldPhone,
	"title": staffcsv.FieldTitle, "rank": staffcsv.FieldRank, "employeeNumber": staffcsv.FieldEmployeeNumber,
	"startDate": staffcsv.FieldStartDate, "leaveDate": staffcsv.FieldLeaveDate,
}

func hasHan(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
}

// apply sets the fields of e that the file has a column for.
func (pl *ImportPlan) apply(e *Employee, r staffcsv.Row) {
	switch {
	case pl.has(staffcsv.FieldChineseName):
		e.NameZh = r.ChineseName
		if pl.has(staffcsv.FieldName) {
			e.NameEn = r.Name
		}
	case pl.has(staffcsv.FieldName) && hasHan(r.Name):
		e.NameZh = r.Name
	case pl.has(staffcsv.FieldName):
		e.NameEn = r.Name
	}
	set := func(field string, dst *string, v string) {
		if pl.has(field) {
			*dst = v
		}
	}
	set(staffcsv.FieldPhone, &e.Phone, r.Phone)
	set(staffcsv.FieldTitle, &e.Title, r.Title)
	set(staffcsv.FieldRank, &e.Rank, r.Rank)
	set(staffcsv.FieldEmployeeNumber, &e.EmployeeNumber, r.EmployeeNumber)
	date := func(d *staffcsv.Date) string {
		if d == nil {
			return ""
		}
		return d.String()
	}
	set(staffcsv.FieldStartDate, &e.StartDate, date(r.Start))
	set(staffcsv.FieldLeaveDate, &e.LeaveDate, date(r.Leave))
}

// deptPlanner finds the departments of paths, by name under their parent,
// among the stored and the planned ones.
type deptPlanner struct {
	t       *tree
	planned map[string]*Department // parent + "\x00" + folded name -> planned department
}

func foldName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func (dp *deptPlanner) child(parent, name string) (*Department, bool) {
	for _, id := range dp.t.children[parent] {
		dep := dp.t.byID[id]
		if foldName(dep.Name) == foldName(name) || (dep.NameZh != "" && foldName(dep.NameZh) == foldName(name)) {
			return dep, true
		}
	}
	if dep := dp.planned[parent+"\x00"+foldName(name)]; dep != nil {
		return dep, false
	}
	return nil, false
}

// plan decides every row of pl.sheet (see the top of this file).
func (d *Directory) plan(ctx context.Context, a identity.Actor, pl *ImportPlan) error {
	p := pl.p
	t := p.tree
	within := t.subtreeFunc()
	byEmail := make(map[string]*Employee, len(p.byID))
	byNumber := make(map[string]*Employee, len(p.byID))
	for _, e := range p.byID {
		byEmail[strings.ToLower(e.Email)] = e
		if e.EmployeeNumber != "" {
			byNumber[strings.ToUpper(e.EmployeeNumber)] = e
		}
	}
	dp := &deptPlanner{t: t, planned: map[string]*Department{}}
	newCount := 0
	now := d.Now().UTC()

	type rowPlan struct {
		row     staffcsv.Row
		e       Employee // as it will be
		cur     *Employee
		invite  int // index into invs, -1; -2: the row has a problem found after the first pass
		move    int // index into invs of the new address of a stored employee, -1
		dept    string
		deptBad bool
	}
	plans := make([]*rowPlan, 0, len(pl.sheet.Rows))
	var invs []identity.Invitation
	var inviteRows, moveRows []*rowPlan
	matched := make(map[string]int, len(pl.sheet.Rows)) // employee ID -> line of the row that names them
	scopeOK := func(dep string) bool { return authorize(a, PermManage, within, dep) == nil }

	for _, r := range pl.sheet.Rows {
		rp := &rowPlan{row: r, invite: -1, move: -1}
		bad := false
		// The department, along its path.
		if pl.has(staffcsv.FieldDepartment) {
			parent, existing := "", ""
			tooLong := false
			for _, seg := range r.Department {
				if utf8.RuneCountInString(seg) > 100 {
					tooLong = true
					break
				}
				dep, stored := dp.child(parent, seg)
				if dep == nil {
					dep = &Department{ID: newID("d-"), Name: seg, Parent: parent, CreatedAt: now}
					if hasHan(seg) {
						dep.NameZh = seg
					}
					dp.planned[parent+"\x00"+foldName(seg)] = dep
					pl.newDepts = append(pl.newDepts, dep)
					newCount++
				} else if stored {
					existing = dep.ID
				}
				parent = dep.ID
			}
			switch {
			case tooLong:
				pl.problem(r.Line, staffcsv.FieldDepartment, CodeInvalid, i18n.Text{EN: "a department name must be at most 100 characters", ZH: "部門名稱不可超過 100 個字"})
				bad = true
			case len(r.Department) > MaxDepth:
				pl.problem(r.Line, staffcsv.FieldDepartment, CodeTooDeep, i18n.Text{EN: "departments can be at most %d levels deep", ZH: "部門最多只可有 %d 層"}.Format(MaxDepth))
				bad = true
			case !scopeOK(existing): // the department, or the deepest of its path that exists
				pl.problem(r.Line, staffcsv.FieldDepartment, CodeOutOfScope, textOutOfScope)
				bad = true
			}
			rp.dept = parent
			rp.deptBad = bad
		}

		// Who the row is: matched by e-mail, else by employee number. A
		// number matched alone is that employee at a new address: the row
		// moves their sign-in address (checked below like a new one).
		m := byEmail[r.Email]
		moving := false
		if n := byNumber[strings.ToUpper(r.EmployeeNumber)]; r.EmployeeNumber != "" && n != nil && n != m {
			if m != nil {
				pl.problem(r.Line, staffcsv.FieldEmployeeNumber, CodeMatchConflict, i18n.Text{
					EN: "employee number %s belongs to %s, not to %s", ZH: "員工編號 %s 屬於 %s，而不是 %s"}.Format(r.EmployeeNumber, n.Email, r.Email))
				bad = true
			} else {
				m, moving = n, true
			}
		}
		if m != nil {
			if line, twice := matched[m.ID]; twice {
				pl.problem(r.Line, staffcsv.FieldEmail, CodeMatchConflict, i18n.Text{
					EN: "line %d is already about %s", ZH: "第 %d 行已是關於 %s 的資料"}.Format(line, m.Email))
				bad = true
			} else {
				matched[m.ID] = r.Line
			}
		}
		rp.cur = m
		if m != nil {
			rp.e = *m
			if moving {
				rp.e.Email, _ = identity.NormalizeEmail(r.Email)
			}
			if m.Status == StatusDeactivated {
				// A deactivated employee stays as they are; a row that
				// would change them is a problem, one that matches is not.
				probe := rp.e
				pl.apply(&probe, r)
				if pl.has(staffcsv.FieldDepartment) && !rp.deptBad {
					probe.Department = rp.dept
				}
				if len(changedFields(*m, probe)) > 0 && !bad {
					pl.problem(r.Line, staffcsv.FieldEmail, CodeDeactivated, i18n.Text{EN: "%s is deactivated and cannot be changed", ZH: "%s 已被停用，不可更改"}.Format(m.Email))
					bad = true
				}
			}
			if !scopeOK(m.Department) {
				pl.problem(r.Line, staffcsv.FieldEmail, CodeOutOfScope, i18n.Text{
					EN: "%s is in a department you do not administer", ZH: "%s 所屬的部門不在你的管理範圍內"}.Format(r.Email))
				bad = true
			}
		} else {
			rp.e = Employee{ID: identity.NewUserID(), Email: r.Email, Status: StatusActive, CreatedAt: now}
			rp.invite = len(invs)
			inviteRows = append(inviteRows, rp)
			name := r.Name
			if name == "" {
				name = r.ChineseName
			}
			invs = append(invs, identity.Invitation{Email: r.Email, Name: name})
			if !pl.has(staffcsv.FieldDepartment) && !scopeOK("") {
				pl.problem(r.Line, staffcsv.FieldDepartment, CodeOutOfScope, textOutOfScope)
				bad = true
			}
		}
		pl.apply(&rp.e, r)
		if pl.has(staffcsv.FieldDepartment) && !rp.deptBad {
			rp.e.Department = rp.dept
		}
		var f fields
		checkProfile(&f, &rp.e)
		for _, fe := range f.list {
			field := profileFields[fe.Field]
			if field == staffcsv.FieldName && !pl.has(field) {
				field = staffcsv.FieldChineseName
			}
			pl.problem(r.Line, field, CodeInvalid, fe.Message)
			bad = true
		}
		if bad {
			rp.invite = -1
			continue
		}
		if moving {
			rp.move = len(invs)
			moveRows = append(moveRows, rp)
			invs = append(invs, identity.Invitation{Email: rp.e.Email, Name: rp.e.accountName()})
		}
		plans = append(plans, rp)
	}
	if len(t.byID)+newCount > MaxDepartments {
		pl.problem(0, "", CodeTooManyDepts, i18n.Text{EN: "A company can have at most %d departments.", ZH: "每間公司最多可有 %d 個部門。"}.Format(MaxDepartments))
	}

	// New addresses: valid for identity, and free in every company (or,
	// for a new record, an account of this company without one).
	if len(invs) > 0 {
		bulk, ok := d.Accounts.(BulkAccounts)
		if !ok {
			return problem.E("directory.plan", problem.Internal, "Accounts has no bulk operations")
		}
		checks, err := bulk.CheckInvitations(ctx, a.Tenant, invs)
		if err != nil {
			return err
		}
		for _, rp := range inviteRows {
			if rp.invite < 0 {
				continue
			}
			c := checks[rp.invite]
			r := rp.row
			switch {
			case len(c.Problems) > 0:
				for _, fe := range c.Problems {
					field := staffcsv.FieldEmail
					if fe.Field == "name" {
						field = staffcsv.FieldName
					}
					pl.problem(r.Line, field, CodeEmailNotAllowed, fe.Message)
				}
				rp.invite = -2
			case c.Holder != nil && c.Holder.Tenant != a.Tenant:
				pl.problem(r.Line, staffcsv.FieldEmail, CodeEmailTaken, i18n.Text{
					EN: "%s already has a Lantau account in another company", ZH: "%s 已於另一間公司擁有 Lantau 帳戶"}.Format(r.Email))
				rp.invite = -2
			case c.Holder != nil:
				acct, err := d.Accounts.Account(ctx, a.Tenant, c.Holder.User)
				if err != nil {
					return err
				}
				if acct.Status == identity.UserDeactivated {
					pl.problem(r.Line, staffcsv.FieldEmail, CodeDeactivated, i18n.Text{EN: "%s's account is deactivated", ZH: "%s 的帳戶已被停用"}.Format(r.Email))
					rp.invite = -2
					continue
				}
				rp.e.ID, rp.e.Email = acct.ID, acct.Email
				rp.invite = -1 // a record for the existing account
			}
		}
		for _, rp := range moveRows {
			c, r := checks[rp.move], rp.row
			switch {
			case len(c.Problems) > 0:
				for _, fe := range c.Problems {
					if fe.Field == "email" {
						pl.problem(r.Line, staffcsv.FieldEmail, CodeEmailNotAllowed, fe.Message)
					}
				}
				rp.invite = -2
			case c.Holder != nil:
				pl.problem(r.Line, staffcsv.FieldEmail, CodeEmailTaken, i18n.Text{
					EN: "%s already has a Lantau account, so %s's address cannot change to it",
					ZH: "%s 已有 Lantau 帳戶，%s 的電郵地址不能改為此地址"}.Format(rp.e.Email, rp.cur.Email))
				rp.invite = -2
			}
		}
	}

	// Managers, once every row's ID is known.
	final := make(map[string]*Employee, len(p.byID)+len(plans))
	for id, e := range p.byID {
		final[id] = e
	}
	planned := make(map[string]*Employee, len(plans))
	for _, rp := range plans {
		if rp.invite == -2 {
			continue
		}
		planned[rp.row.Email] = &rp.e
	}
	if pl.has(staffcsv.FieldManagerEmail) {
		for _, rp := range plans {
			if rp.invite == -2 {
				continue
			}
			me := rp.row.ManagerEmail
			if me == "" {
				rp.e.Manager = ""
				continue
			}
			mgr := planned[me]
			if mgr == nil {
				mgr = byEmail[me]
			}
			switch {
			case mgr == nil:
				pl.problem(rp.row.Line, staffcsv.FieldManagerEmail, CodeManagerNotFound, i18n.Text{
					EN: "there is no employee %s, in the company or in this file", ZH: "公司及本檔案均沒有員工 %s"}.Format(me))
				rp.invite = -2
			case mgr.Status == StatusDeactivated && (rp.cur == nil || rp.cur.Manager != mgr.ID):
				pl.problem(rp.row.Line, staffcsv.FieldManagerEmail, CodeManagerInactive, i18n.Text{EN: "%s is deactivated", ZH: "%s 已被停用"}.Format(me))
				rp.invite = -2
			default:
				rp.e.Manager = mgr.ID
			}
		}
	}
	for _, rp := range plans {
		if rp.invite != -2 {
			final[rp.e.ID] = &rp.e
		}
	}
	fp := &people{byID: final, tree: t}
	for _, rp := range plans {
		if rp.invite == -2 || rp.e.Manager == "" || (rp.cur != nil && rp.cur.Manager == rp.e.Manager && rp.cur.Department == rp.e.Department) {
			continue
		}
		for _, up := range fp.managers(final[rp.e.Manager]) {
			if up.ID == rp.e.ID {
				pl.problem(rp.row.Line, staffcsv.FieldManagerEmail, CodeManagerCycle, i18n.Text{
					EN: "%s is managed, directly or not, by %s", ZH: "%s 直接或間接由 %s 管理"}.Format(rp.row.ManagerEmail, rp.row.Email))
				break
			}
		}
	}

	// The outcome of each row.
	used := map[string]bool{}
	for _, rp := range plans {
		if rp.invite == -2 {
			continue
		}
		if rp.e.Department != "" {
			used[rp.e.Department] = true
		}
		if rp.e.LeaveDate != "" || (rp.cur != nil && rp.cur.LeaveDate != "") {
			pl.leaving = append(pl.leaving, rp.e.ID)
		}
		switch {
		case rp.cur == nil:
			pl.creates = append(pl.creates, &plannedCreate{e: rp.e, account: rp.invite == -1})
		case len(changedFields(*rp.cur, rp.e)) == 0:
			pl.Unchanged++
		default:
			u := plannedUpdate{before: *rp.cur, after: rp.e}
			pl.updates = append(pl.updates, u)
			c := RowChange{Line: rp.row.Line, Employee: rp.e.ID, Fields: changedFields(u.before, u.after)}
			if u.moves() {
				c.EmailFrom, c.EmailTo = u.before.Email, u.after.Email
			}
			pl.Changes = append(pl.Changes, c)
		}
	}
	// Departments planned only for rows with problems are not created.
	byID := map[string]*Department{}
	for _, dep := range pl.newDepts {
		byID[dep.ID] = dep
	}
	keep := map[string]bool{}
	for id := range used {
		for x := byID[id]; x != nil && !keep[x.ID]; x = byID[x.Parent] {
			keep[x.ID] = true
		}
	}
	var newDepts []*Department
	for _, dep := range pl.newDepts {
		if keep[dep.ID] {
			newDepts = append(newDepts, dep)
			pl.DepartmentsToCreate = append(pl.DepartmentsToCreate, pathOf(dep, byID, t))
		}
	}
	pl.newDepts = newDepts
	pl.Creates, pl.Updates = len(pl.creates), len(pl.updates)
	return nil
}

// pathOf is a department's path from the top, "技術部/後端組".
func pathOf(dep *Department, planned map[string]*Department, t *tree) string {
	var parts []string
	for x, hops := dep, 0; x != nil && hops <= MaxDepth+1; hops++ {
		parts = append(parts, x.Name)
		if x.Parent == "" {
			break
		}
		if y := planned[x.Parent]; y != nil {
			x = y
		} else {
			x = t.byID[x.Parent]
		}
	}
	slices.Reverse(parts)
	return strings.Join(parts, "/")
}

// errReplan says the store changed under the plan: plan again.
var errReplan = errors.New("the directory changed during the import")

// Import plans the import of sheet and, when the plan has no problems,
// writes it; a plan with problems is returned with nothing written. A
// change that races the import makes it plan again and write what is left
// (up to maxAttempts times).
func (d *Directory) Import(ctx context.Context, a identity.Actor, sheet *staffcsv.Sheet, opts ImportOptions) (*ImportPlan, ImportResult, error) {
	const op = "directory.Import"
	var res ImportResult
	total, done := -1, 0
	for attempt := 1; ; attempt++ {
		pl, err := d.PlanImport(ctx, a, sheet)
		if err != nil {
			return nil, res, err
		}
		if len(pl.Problems) > 0 {
			return pl, res, nil
		}
		if total < 0 {
			total = pl.Work()
			res.Rows, res.Unchanged = pl.Rows, pl.Unchanged
		}
		base := total - pl.Work()
		progress := func(n int) {
			done = base + n
			if opts.Progress != nil {
				opts.Progress(min(done, total), total)
			}
		}
		err = d.write(ctx, a, pl, opts, &res, progress)
		if errors.Is(err, errReplan) && attempt < maxAttempts {
			continue
		}
		if errors.Is(err, errReplan) {
			return pl, res, concurrentChange(op, err)
		}
		if err != nil {
			return pl, res, problem.Wrap(op, err)
		}
		// Rows written by an earlier attempt count as created or updated,
		// not unchanged.
		res.Unchanged = pl.Rows - res.Created - res.Updated
		if err := d.indexLeaveDates(ctx, a.Tenant, pl); err != nil {
			return pl, res, problem.Wrap(op, err)
		}
		d.publishImport(ctx, a, opts.Job, res, pl)
		return pl, res, nil
	}
}

// batch gathers the operations of one transaction: at most
// table.MaxTransactOps, each key once, each department touched once.
type batch struct {
	ops      []table.Op
	reserved int // operations written by someone else in the same transaction (identity's)
	keys     map[string]bool
	touched  map[string]bool
}

func newBatch() *batch { return &batch{keys: map[string]bool{}, touched: map[string]bool{}} }

func opKey(o table.Op) table.Key {
	switch {
	case o.Put != nil:
		return o.Put.Key
	case o.Delete != nil:
		return *o.Delete
	default:
		return *o.Check
	}
}

// fits reports whether ops (and the touches of deps not yet touched, and
// reserve more) can join the batch.
func (b *batch) fits(ops []table.Op, deps []string, reserve int) bool {
	n := len(b.ops) + b.reserved + len(ops) + reserve
	for _, dep := range deps {
		if dep != "" && !b.touched[dep] {
			n++
		}
	}
	if n > table.MaxTransactOps {
		return false
	}
	for _, o := range ops {
		if b.keys[table.KeyString(opKey(o))] {
			return false
		}
	}
	return true
}

func (b *batch) add(ops ...table.Op) {
	for _, o := range ops {
		b.keys[table.KeyString(opKey(o))] = true
	}
	b.ops = append(b.ops, ops...)
}

// touches are the department rewrites of the batch's placements.
func (b *batch) touch(tenant string, t *tree, deps ...string) ([]table.Op, error) {
	var out []table.Op
	for _, dep := range deps {
		if dep == "" || b.touched[dep] {
			continue
		}
		b.touched[dep] = true
		o, err := touch(tenant, t.byID[dep])
		if err != nil {
			return nil, err
		}
		b.keys[table.KeyString(opKey(o))] = true
		out = append(out, o)
	}
	return out, nil
}

// committed bumps the versions of the departments the batch touched.
func (b *batch) committed(t *tree) {
	for dep := range b.touched {
		t.byID[dep].Version++
	}
}

func isRace(err error) bool {
	if isConditionFailed(err) {
		return true
	}
	switch problem.CodeOf(err) {
	case "concurrent-change", "email-taken":
		return true
	}
	return false
}

// write applies a plan without problems.
func (d *Directory) write(ctx context.Context, a identity.Actor, pl *ImportPlan, opts ImportOptions, res *ImportResult, progress func(int)) error {
	tenant, t := a.Tenant, pl.p.tree
	done := 0
	commit := func(ops []table.Op) error {
		err := d.Store.Transact(ctx, ops)
		if isRace(err) {
			return fmt.Errorf("%w: %v", errReplan, err)
		}
		return err
	}

	// 1. Departments, parents first, with the TREE item's version.
	for start := 0; start < len(pl.newDepts); {
		end := min(len(pl.newDepts), start+table.MaxTransactOps-1)
		count := len(t.byID) + end - start
		treeOp, err := treeWrite(tenant, t, count)
		if err != nil {
			return err
		}
		ops := []table.Op{treeOp}
		for _, dep := range pl.newDepts[start:end] {
			o, err := put(deptKey(tenant, dep.ID), stored(*dep), 1, table.IfNotExists)
			if err != nil {
				return err
			}
			ops = append(ops, o)
		}
		if err := commit(ops); err != nil {
			return err
		}
		t.version++
		for _, dep := range pl.newDepts[start:end] {
			dep.Version = 1
			t.byID[dep.ID] = dep
			t.children[dep.Parent] = append(t.children[dep.Parent], dep.ID)
			d.publish(ctx, tenant, a.User, EventDepartmentCreated, map[string]any{
				"department": dep.ID, "name": dep.Name, "nameZh": dep.NameZh, "parent": dep.Parent, "import": opts.Job})
		}
		res.DepartmentsCreated += end - start
		done += end - start
		progress(done)
		start = end
	}

	// 2. New sign-in addresses: each through identity, which moves the
	// account's address with the record in one transaction.
	for _, u := range pl.updates {
		if !u.moves() {
			continue
		}
		if err := d.moveEmail(ctx, a, t, u); err != nil {
			return err
		}
		res.Updated++
		done++
		progress(done)
	}

	// 3. Other updates and the records of existing accounts: plain
	// transactions.
	b := newBatch()
	n := 0
	flush := func() error {
		if len(b.ops) == 0 {
			return nil
		}
		if err := commit(b.ops); err != nil {
			return err
		}
		b.committed(t)
		done += n
		progress(done)
		b, n = newBatch(), 0
		return nil
	}
	// stage adds one employee's ops, with the touches of the departments
	// they depend on, to the batch, committing the batch first when they
	// do not fit.
	stage := func(ops []table.Op, deps []string) error {
		if !b.fits(ops, deps, 0) {
			if err := flush(); err != nil {
				return err
			}
		}
		touches, err := b.touch(tenant, t, deps...)
		if err != nil {
			return err
		}
		b.add(ops...)
		b.add(touches...)
		n++
		return nil
	}
	for _, u := range pl.updates {
		if u.moves() {
			continue
		}
		ops, deps, err := updateOps(tenant, u.before, u.after)
		if err != nil {
			return err
		}
		if err := stage(ops, deps); err != nil {
			return err
		}
		res.Updated++
	}
	var invites []*plannedCreate
	for _, c := range pl.creates {
		if !c.account {
			invites = append(invites, c)
			continue
		}
		ops, err := recordOps(tenant, c.e)
		if err != nil {
			return err
		}
		if err := stage(ops, []string{c.e.Department}); err != nil {
			return err
		}
		res.Created++
	}
	if err := flush(); err != nil {
		return err
	}

	// 4. New accounts with their records, through identity, many a
	// transaction; each batch's invitations are mailed while the next
	// batches are written (and all of them before write returns, also
	// after a failure: the accounts written are invited).
	if len(invites) == 0 {
		return nil
	}
	bulk, ok := d.Accounts.(BulkAccounts)
	if !ok {
		return errors.New("Accounts has no bulk operations")
	}
	mails := make(chan *identity.Invitations, mailSenders)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range mailSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for inv := range mails {
				failed := bulk.SendInvitations(ctx, inv)
				mu.Lock()
				res.InvitationsFailed = append(res.InvitationsFailed, failed...)
				mu.Unlock()
			}
		}()
	}
	group := &identity.Invitations{}
	defer func() {
		if group.Len() > 0 {
			mails <- group
		}
		close(mails)
		wg.Wait()
	}()
	var ps []identity.Provision
	provision := func() error {
		if len(ps) == 0 {
			return nil
		}
		shared := b.ops // the touches
		_, inv, err := bulk.CreateAccounts(ctx, a, ps, shared)
		if isRace(err) {
			return fmt.Errorf("%w: %v", errReplan, err)
		} else if err != nil {
			return err
		}
		if group.Add(inv); group.Len() >= mailGroup {
			mails <- group
			group = &identity.Invitations{}
		}
		b.committed(t)
		res.Created += len(ps)
		done += len(ps)
		progress(done)
		ps, b = nil, newBatch()
		return nil
	}
	for _, c := range invites {
		ops, err := recordOps(tenant, c.e)
		if err != nil {
			return err
		}
		deps := []string{c.e.Department}
		if !b.fits(ops, deps, identity.OpsPerAccount) {
			if err := provision(); err != nil {
				return err
			}
		}
		// The touches are the shared ops (b.ops); the record and its
		// number claim are the account's Extra, counted in reserved.
		touches, err := b.touch(tenant, t, deps...)
		if err != nil {
			return err
		}
		for _, o := range ops {
			b.keys[table.KeyString(opKey(o))] = true
		}
		b.ops = append(b.ops, touches...)
		b.reserved += identity.OpsPerAccount + len(ops)
		ps = append(ps, identity.Provision{ID: c.e.ID, Extra: ops,
			Invitation: identity.Invitation{Email: c.e.Email, Name: c.e.accountName(), Lang: opts.Lang}})
	}
	return provision()
}

// updateOps are the writes of one employee's change, and the department
// it moves into (to touch).
func updateOps(tenant string, before, after Employee) ([]table.Op, []string, error) {
	empOp, err := put(employeeKey(tenant, after.ID), after.stored(), before.Version+1, table.IfVersion(before.Version))
	if err != nil {
		return nil, nil, err
	}
	ops := []table.Op{empOp}
	if !strings.EqualFold(after.EmployeeNumber, before.EmployeeNumber) {
		if before.EmployeeNumber != "" {
			k := numberKey(tenant, before.EmployeeNumber)
			ops = append(ops, table.Op{Delete: &k, Condition: table.IfExists})
		}
		if after.EmployeeNumber != "" {
			claim, err := put(numberKey(tenant, after.EmployeeNumber), numberClaim{Employee: after.ID}, 1, table.IfNotExists)
			if err != nil {
				return nil, nil, err
			}
			ops = append(ops, claim)
		}
	}
	var deps []string
	if after.Department != before.Department && after.Department != "" {
		deps = append(deps, after.Department)
	}
	return ops, deps, nil
}

// moveEmail writes one update that moves an employee's sign-in address:
// the record's writes (and the touch of a department moved into) are the
// Extra of identity's ChangeEmail.
func (d *Directory) moveEmail(ctx context.Context, a identity.Actor, t *tree, u plannedUpdate) error {
	ops, deps, err := updateOps(a.Tenant, u.before, u.after)
	if err != nil {
		return err
	}
	b := newBatch()
	touches, err := b.touch(a.Tenant, t, deps...)
	if err != nil {
		return err
	}
	_, err = d.Accounts.ChangeEmail(ctx, a, identity.EmailChange{User: u.after.ID, Email: u.after.Email, Extra: append(ops, touches...)})
	if isRace(err) {
		return fmt.Errorf("%w: %v", errReplan, err)
	} else if err != nil {
		return err
	}
	b.committed(t)
	return nil
}

// recordOps are the writes of a new record: the record and its number claim.
func recordOps(tenant string, e Employee) ([]table.Op, error) {
	e.Email = strings.ToLower(e.Email)
	empOp, err := put(employeeKey(tenant, e.ID), e.stored(), 1, table.IfNotExists)
	if err != nil {
		return nil, err
	}
	ops := []table.Op{empOp}
	if e.EmployeeNumber != "" {
		claim, err := put(numberKey(tenant, e.EmployeeNumber), numberClaim{Employee: e.ID}, 1, table.IfNotExists)
		if err != nil {
			return nil, err
		}
		ops = append(ops, claim)
	}
	return ops, nil
}

func (d *Directory) publishImport(ctx context.Context, a identity.Actor, job string, res ImportResult, pl *ImportPlan) {
	data := map[string]any{"job": job, "rows": res.Rows, "created": res.Created, "updated": res.Updated,
		"unchanged": res.Unchanged, "departmentsCreated": res.DepartmentsCreated, "invitationsFailed": len(res.InvitationsFailed)}
	if len(pl.creates)+len(pl.updates) <= maxEventIDs {
		var created []string
		updated := map[string][]string{}
		for _, c := range pl.creates {
			created = append(created, c.e.ID)
		}
		for _, u := range pl.updates {
			updated[u.after.ID] = changedFields(u.before, u.after)
		}
		data["createdEmployees"], data["updatedEmployees"] = created, updated
	}
	d.publish(ctx, a.Tenant, a.User, EventStaffImported, data)
}

// indexLeaveDates brings the off-boarding index in line with every row
// that has, or had, a leave date (CreateEmployee and UpdateEmployee leave
// it to the off-boarding function, through their events; an import
// publishes one event, so it does this itself). IndexLeaveDate reads the
// record and writes only what differs, so rows an earlier, interrupted
// run wrote are indexed too.
func (d *Directory) indexLeaveDates(ctx context.Context, tenant string, pl *ImportPlan) error {
	for _, id := range pl.leaving {
		if err := d.IndexLeaveDate(ctx, tenant, id); err != nil {
			return err
		}
	}
	return nil
}
