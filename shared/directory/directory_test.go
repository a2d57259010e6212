package directory_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
)

var ctx = context.Background()

func TestUpdateDepartment_RefusesMovesThatMakeACycle(t *testing.T) {
	f := newFixture(t)
	a := f.dept(t, "A", "")
	b := f.dept(t, "B", a.ID)
	c := f.dept(t, "C", b.ID)
	for _, tc := range []struct {
		name   string
		id, to string
	}{
		{"under itself", a.ID, a.ID},
		{"under its child", a.ID, b.ID},
		{"under its grandchild", a.ID, c.ID},
		{"middle under its child", b.ID, c.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.dir.UpdateDepartment(ctx, superAdmin(), tc.id, directory.DepartmentChange{Parent: ptr(tc.to)})
			assert.Equal(t, problem.Conflict, problem.KindOf(err))
			assert.Equal(t, problem.Code("department-cycle"), problem.CodeOf(err))
		})
	}
	moved, err := f.dir.UpdateDepartment(ctx, superAdmin(), c.ID, directory.DepartmentChange{Parent: ptr("")})
	require.NoError(t, err)
	assert.Equal(t, "", moved.Parent)
	assert.Equal(t, 1, moved.Depth)
	_, err = f.dir.UpdateDepartment(ctx, superAdmin(), a.ID, directory.DepartmentChange{Parent: ptr(c.ID)})
	require.NoError(t, err, "C is no longer below A")
	assert.Contains(t, f.events.types(), directory.EventDepartmentMoved)
}

// A cycle of departments can only arise from two moves that each look
// fine alone; the tree's version makes one of them read again and refuse.
func TestUpdateDepartment_ConcurrentMovesNeverMakeACycle(t *testing.T) {
	f := newFixture(t)
	for round := range 15 {
		a := f.dept(t, fmt.Sprintf("A%d", round), "")
		b := f.dept(t, fmt.Sprintf("B%d", round), "")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, mv := range [][2]string{{a.ID, b.ID}, {b.ID, a.ID}} {
			wg.Go(func() {
				_, errs[i] = f.dir.UpdateDepartment(ctx, superAdmin(), mv[0], directory.DepartmentChange{Parent: ptr(mv[1])})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				assert.Equal(t, problem.Code("department-cycle"), problem.CodeOf(err))
			}
		}
		assert.Equal(t, 1, ok, "round %d: exactly one move succeeds", round)
		deps, err := f.dir.Departments(ctx, superAdmin())
		require.NoError(t, err)
		byID := map[string]directory.Department{}
		for _, d := range deps {
			byID[d.ID] = d
		}
		for _, id := range []string{a.ID, b.ID} {
			_, listed := byID[id]
			assert.True(t, listed, "round %d: %s reachable from the top (in tree order)", round, id)
		}
	}
}

func TestDeleteDepartment_OnlyWhenEmpty(t *testing.T) {
	f := newFixture(t)
	a := f.dept(t, "A", "")
	b := f.dept(t, "B", a.ID)
	e := f.emp(t, "wong", b.ID)

	err := f.dir.DeleteDepartment(ctx, superAdmin(), a.ID)
	assert.Equal(t, problem.Code("department-not-empty"), problem.CodeOf(err), "has a sub-department")
	err = f.dir.DeleteDepartment(ctx, superAdmin(), b.ID)
	assert.Equal(t, problem.Code("department-not-empty"), problem.CodeOf(err), "has an employee")

	_, err = f.dir.UpdateEmployee(ctx, superAdmin(), e.ID, directory.EmployeeChange{Department: ptr(a.ID)})
	require.NoError(t, err)
	require.NoError(t, f.dir.DeleteDepartment(ctx, superAdmin(), b.ID))
	err = f.dir.DeleteDepartment(ctx, superAdmin(), b.ID)
	assert.Equal(t, problem.NotFound, problem.KindOf(err))
	assert.Contains(t, f.events.types(), directory.EventDepartmentDeleted)
}

// An employee moved into a department while it is being deleted either
// lands before the delete (which is then refused) or is refused itself.
func TestDeleteDepartment_ConcurrentMoveIntoItLeavesNoOrphan(t *testing.T) {
	f := newFixture(t)
	home := f.dept(t, "Home", "")
	for round := range 10 {
		target := f.dept(t, fmt.Sprintf("T%d", round), "")
		e := f.emp(t, fmt.Sprintf("mover%d", round), home.ID)
		var wg sync.WaitGroup
		wg.Go(func() { _ = f.dir.DeleteDepartment(ctx, superAdmin(), target.ID) })
		wg.Go(func() {
			_, _ = f.dir.UpdateEmployee(ctx, superAdmin(), e.ID, directory.EmployeeChange{Department: ptr(target.ID)})
		})
		wg.Wait()
		got, err := f.dir.Employee(ctx, superAdmin(), e.ID)
		require.NoError(t, err)
		exists, err := f.dir.DepartmentExists(ctx, tenant, got.Department)
		require.NoError(t, err)
		assert.True(t, exists, "round %d: the employee's department %s exists", round, got.Department)
	}
}

func TestMembers_WithAndWithoutSubDepartments(t *testing.T) {
	f := newFixture(t)
	sales := f.dept(t, "Sales", "")
	hk := f.dept(t, "HK Sales", sales.ID)
	kln := f.dept(t, "Kowloon", hk.ID)
	other := f.dept(t, "Finance", "")
	f.emp(t, "amy", sales.ID)
	f.emp(t, "ben", hk.ID)
	f.emp(t, "cat", kln.ID)
	f.emp(t, "dan", other.ID)

	names := func(p directory.Page) []string {
		var out []string
		for _, e := range p.Employees {
			out = append(out, e.NameEn)
		}
		return out
	}
	page, err := f.dir.Members(ctx, employee("u-someone"), sales.ID, false, "", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"amy"}, names(page))
	page, err = f.dir.Members(ctx, employee("u-someone"), sales.ID, true, "", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"amy", "ben", "cat"}, names(page))
	page, err = f.dir.Members(ctx, employee("u-someone"), hk.ID, true, "", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"ben", "cat"}, names(page))
	_, err = f.dir.Members(ctx, employee("u-someone"), "d-nothere", true, "", 0)
	assert.Equal(t, problem.Code("department-not-found"), problem.CodeOf(err))
}

func TestManagers_ExplicitManagerThenDepartmentHeadsUpTheTree(t *testing.T) {
	f := newFixture(t)
	co := f.dept(t, "Company", "")
	sales := f.dept(t, "Sales", co.ID)
	team := f.dept(t, "Team", sales.ID)
	ceo := f.emp(t, "ceo", co.ID)
	vp := f.emp(t, "vp", sales.ID)
	lead := f.emp(t, "lead", team.ID)
	staff := f.emp(t, "staff", team.ID)
	mentor := f.emp(t, "mentor", sales.ID)
	for dep, head := range map[string]string{co.ID: ceo.ID, sales.ID: vp.ID, team.ID: lead.ID} {
		_, err := f.dir.UpdateDepartment(ctx, superAdmin(), dep, directory.DepartmentChange{Head: ptr(head)})
		require.NoError(t, err)
	}
	ids := func(list []directory.Employee) []string {
		var out []string
		for _, e := range list {
			out = append(out, e.NameEn)
		}
		return out
	}
	chain := func(id string) []string {
		t.Helper()
		list, err := f.dir.Managers(ctx, employee(staff.ID), id)
		require.NoError(t, err)
		return ids(list)
	}
	assert.Equal(t, []string{"lead", "vp", "ceo"}, chain(staff.ID))
	assert.Equal(t, []string{"vp", "ceo"}, chain(lead.ID), "a head is managed by the head above")
	assert.Empty(t, chain(ceo.ID))

	_, err := f.dir.UpdateEmployee(ctx, superAdmin(), staff.ID, directory.EmployeeChange{Manager: ptr(mentor.ID)})
	require.NoError(t, err)
	assert.Equal(t, []string{"mentor", "vp", "ceo"}, chain(staff.ID), "the explicit manager first, then theirs")

	// A manages B manages A: refused.
	_, err = f.dir.UpdateEmployee(ctx, superAdmin(), mentor.ID, directory.EmployeeChange{Manager: ptr(staff.ID)})
	assert.Equal(t, problem.Invalid, problem.KindOf(err))
	assertField(t, err, "manager", "cycle")
	_, err = f.dir.UpdateEmployee(ctx, superAdmin(), staff.ID, directory.EmployeeChange{Manager: ptr(staff.ID)})
	assertField(t, err, "manager", "self")

	// A deactivated manager is passed over.
	_, err = f.dir.DeactivateEmployee(ctx, superAdmin(), vp.ID)
	require.NoError(t, err)
	_, err = f.dir.UpdateDepartment(ctx, superAdmin(), team.ID, directory.DepartmentChange{Head: ptr(vp.ID)})
	assertField(t, err, "head", "deactivated")
	assert.Equal(t, []string{"ceo"}, chain(lead.ID))
	assert.Equal(t, []string{"mentor", "ceo"}, chain(staff.ID))
}

func assertField(t *testing.T, err error, field, code string) {
	t.Helper()
	var pe *problem.Error
	require.ErrorAs(t, err, &pe)
	for e := range chain(pe) {
		for _, fe := range e.Fields {
			if fe.Field == field && fe.Code == code {
				return
			}
		}
	}
	t.Errorf("no field error %s/%s in %v", field, code, err)
}

func chain(e *problem.Error) func(func(*problem.Error) bool) {
	return func(yield func(*problem.Error) bool) {
		for e != nil {
			if !yield(e) {
				return
			}
			next, _ := e.Err.(*problem.Error)
			e = next
		}
	}
}

func TestDisplayName_FollowsTheCompanyFormat(t *testing.T) {
	marketing := directory.Department{Name: "Marketing", NameZh: "市場部"}
	chan_ := directory.Employee{NameEn: "Chan Tai Man", NameZh: "陳大文", Rank: "經理", Title: "Marketing Manager"}
	for _, tc := range []struct {
		name, format string
		e            directory.Employee
		dep          directory.Department
		want         string
	}{
		{"default", directory.DefaultDisplayNameFormat, chan_, marketing, "市場部-陳大文-經理"},
		{"English names only", directory.DefaultDisplayNameFormat, directory.Employee{NameEn: "Amy Ho", Rank: "Clerk"},
			directory.Department{Name: "Finance"}, "Finance-Amy Ho-Clerk"},
		{"no rank drops its dash", directory.DefaultDisplayNameFormat, directory.Employee{NameZh: "陳大文"}, marketing, "市場部-陳大文"},
		{"no department drops its dash", directory.DefaultDisplayNameFormat, chan_, directory.Department{}, "陳大文-經理"},
		{"custom", "{nameEn} ({title})", chan_, marketing, "Chan Tai Man (Marketing Manager)"},
		{"invalid format falls back", "{salary}", chan_, marketing, "市場部-陳大文-經理"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, directory.DisplayName(tc.format, tc.e, tc.dep))
		})
	}
}

func TestSetDisplayNameFormat_AcceptsKnownPlaceholdersOnly(t *testing.T) {
	f := newFixture(t)
	for _, bad := range []string{"", "{salary}-{name}", "{rank}", "{name", "name}", strings.Repeat("x", 101) + "{name}"} {
		_, err := f.dir.SetDisplayNameFormat(ctx, superAdmin(), bad)
		assert.Equal(t, problem.Invalid, problem.KindOf(err), bad)
	}
	_, err := f.dir.SetDisplayNameFormat(ctx, dirAdmin("d-1"), "{name}")
	assert.Equal(t, problem.Forbidden, problem.KindOf(err), "a department-scoped admin")
	_, err = f.dir.SetDisplayNameFormat(ctx, employee("u-1"), "{name}")
	assert.Equal(t, problem.Forbidden, problem.KindOf(err))

	_, err = f.dir.SetDisplayNameFormat(ctx, dirAdmin(""), "{nameEn}/{department}")
	require.NoError(t, err)
	d := f.dept(t, "Sales", "")
	e := f.emp(t, "amy", d.ID)
	got, err := f.dir.Employee(ctx, employee("u-1"), e.ID)
	require.NoError(t, err)
	assert.Equal(t, "amy/Sales", got.DisplayName)
}

func TestEmployees_SearchesAndPaginatesThreeHundred(t *testing.T) {
	f := newFixture(t)
	d := f.dept(t, "Ops", "")
	for i := range 300 {
		f.emp(t, fmt.Sprintf("staff%03d", i), d.ID, func(in *directory.NewEmployee) {
			in.EmployeeNumber = fmt.Sprintf("E%04d", i)
			if i%3 == 0 {
				in.NameZh = "陳" + fmt.Sprint(i)
			}
		})
	}
	seen := map[string]bool{}
	var last string
	cursor, pages := "", 0
	for {
		page, err := f.dir.Employees(ctx, employee("u-reader"), directory.Search{Cursor: cursor, Limit: 40})
		require.NoError(t, err)
		pages++
		for _, e := range page.Employees {
			assert.False(t, seen[e.ID], "no employee twice")
			seen[e.ID] = true
			assert.Greater(t, e.NameEn, last, "ordered by name")
			last = e.NameEn
			assert.Empty(t, e.EmployeeNumber, "private to admins")
		}
		if page.Cursor == "" {
			break
		}
		cursor = page.Cursor
	}
	assert.Len(t, seen, 300)
	assert.Equal(t, 8, pages)

	count := func(a identity.Actor, s directory.Search) int {
		page, err := f.dir.Employees(ctx, a, s)
		require.NoError(t, err)
		return len(page.Employees)
	}
	assert.Equal(t, 1, count(employee("u-reader"), directory.Search{Text: "STAFF123"}), "English name, any case")
	assert.Equal(t, 36, count(employee("u-reader"), directory.Search{Text: "陳1", Limit: directory.MaxPageSize}), "Chinese name: 陳12, 陳15, 陳102... (every third has one)")
	assert.Equal(t, 1, count(employee("u-reader"), directory.Search{Text: "staff007@acme"}), "e-mail address")
	assert.Equal(t, 0, count(employee("u-reader"), directory.Search{Text: "e0042"}), "employee numbers are private")
	assert.Equal(t, 1, count(superAdmin(), directory.Search{Text: "e0042"}), "but admins find by them")
	assert.Equal(t, directory.DefaultPageSize, count(superAdmin(), directory.Search{}))

	_, err := f.dir.Employees(ctx, employee("u-reader"), directory.Search{Limit: directory.MaxPageSize + 1})
	assert.Equal(t, problem.Invalid, problem.KindOf(err))
	_, err = f.dir.Employees(ctx, employee("u-reader"), directory.Search{Cursor: "bm9wZQ"})
	assert.Equal(t, problem.Invalid, problem.KindOf(err))
	first, err := f.dir.Employees(ctx, employee("u-reader"), directory.Search{Limit: 10})
	require.NoError(t, err)
	_, err = f.dir.Employees(ctx, employee("u-reader"), directory.Search{Text: "staff", Cursor: first.Cursor})
	assert.Equal(t, problem.Invalid, problem.KindOf(err), "a cursor continues only its own search")
}

func TestCreateEmployee_EmployeeNumbersAreUnique(t *testing.T) {
	f := newFixture(t)
	d := f.dept(t, "Ops", "")
	withNumber := func(n string) func(*directory.NewEmployee) {
		return func(in *directory.NewEmployee) { in.EmployeeNumber = n }
	}
	a := f.emp(t, "amy", d.ID, withNumber("HK-001"))
	_, err := f.dir.CreateEmployee(ctx, superAdmin(), directory.NewEmployee{Email: "ben@acme.com.hk",
		Profile: directory.Profile{NameEn: "ben", EmployeeNumber: "hk-001"}})
	assert.Equal(t, problem.Code("employee-number-taken"), problem.CodeOf(err), "numbers compare without case")

	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = f.dir.CreateEmployee(ctx, superAdmin(), directory.NewEmployee{Email: fmt.Sprintf("c%d@acme.com.hk", i),
				Profile: directory.Profile{NameEn: fmt.Sprintf("c%d", i), EmployeeNumber: "HK-777"}})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assert.Equal(t, problem.Code("employee-number-taken"), problem.CodeOf(err))
		}
	}
	assert.Equal(t, 1, ok, "of concurrent creations with one number, one wins")

	// A number freed by a change can be taken again.
	_, err = f.dir.UpdateEmployee(ctx, superAdmin(), a.ID, directory.EmployeeChange{EmployeeNumber: ptr("HK-002")})
	require.NoError(t, err)
	f.emp(t, "dan", d.ID, withNumber("HK-001"))
	_, err = f.dir.UpdateEmployee(ctx, superAdmin(), a.ID, directory.EmployeeChange{EmployeeNumber: ptr("HK-001")})
	assert.Equal(t, problem.Code("employee-number-taken"), problem.CodeOf(err))
}

func TestCreateEmployee_ValidatesFields(t *testing.T) {
	f := newFixture(t)
	_, err := f.dir.CreateEmployee(ctx, superAdmin(), directory.NewEmployee{Profile: directory.Profile{
		Phone: "call me", EmployeeNumber: "no spaces", StartDate: "2026-13-01", LeaveDate: "2026-01-01",
		Department: "d-nothere", Manager: "u-nothere"}})
	require.Equal(t, problem.Invalid, problem.KindOf(err))
	for _, fc := range [][2]string{{"email", "required"}, {"nameEn", "required"}, {"phone", "phone"}, {"employeeNumber", "format"},
		{"startDate", "date"}, {"department", "not-found"}, {"manager", "not-found"}} {
		assertField(t, err, fc[0], fc[1])
	}
	_, err = f.dir.CreateEmployee(ctx, superAdmin(), directory.NewEmployee{Email: "x@acme.com.hk", Profile: directory.Profile{
		NameZh: "何", StartDate: "2026-02-01", LeaveDate: "2026-01-01"}})
	assertField(t, err, "leaveDate", "before-start")

	e, err := f.dir.CreateEmployee(ctx, superAdmin(), directory.NewEmployee{Email: "Ho@Acme.com.hk", Profile: directory.Profile{
		NameZh: "何", Phone: "9123 4567"}})
	require.NoError(t, err)
	assert.Equal(t, "+85291234567", e.Phone, "Hong Kong numbers get +852")
	assert.Equal(t, "ho@acme.com.hk", e.Email)
	require.Len(t, f.accounts.provisioned, 1)
	assert.Equal(t, "何", f.accounts.provisioned[0].Name)
	assert.Equal(t, e.ID, f.accounts.provisioned[0].ID)

	for n, ok := range map[int]bool{32: true, 33: false} {
		_, err = f.dir.CreateEmployee(ctx, superAdmin(), directory.NewEmployee{Email: fmt.Sprintf("n%d@acme.com.hk", n), Profile: directory.Profile{
			NameEn: "Number Test", EmployeeNumber: strings.Repeat("9", n)}})
		if ok {
			assert.NoError(t, err, "an employee number of %d characters", n)
		} else {
			assertField(t, err, "employeeNumber", "format")
		}
	}
}

func TestAuthorize_LimitsScopedAdminsToTheirSubtree(t *testing.T) {
	f := newFixture(t)
	sales := f.dept(t, "Sales", "")
	hk := f.dept(t, "HK", sales.ID)
	fin := f.dept(t, "Finance", "")
	scoped := dirAdmin(sales.ID)
	attendanceAdmin := identity.ActorFromClaims(tenant, "u-att", "s", []string{"admin", "admin:attendance"}, full)
	enrolOnly := identity.ActorFromClaims(tenant, "u-super", "s", []string{"super-admin"}, []string{identity.ScopeEnrol})
	otherCompany := identity.ActorFromClaims("c-other", "u-x", "s", []string{"super-admin"}, full)
	for _, tc := range []struct {
		name  string
		actor identity.Actor
		perm  directory.Permission
		deps  []string
		ok    bool
	}{
		{"anyone signed in reads", employee("u-1"), directory.PermRead, nil, true},
		{"enrol-only token reads nothing", enrolOnly, directory.PermRead, nil, false},
		{"employee manages nothing", employee("u-1"), directory.PermManage, []string{hk.ID}, false},
		{"other area's admin manages nothing", attendanceAdmin, directory.PermManage, []string{hk.ID}, false},
		{"super admin anywhere", superAdmin(), directory.PermManage, []string{fin.ID, ""}, true},
		{"company-wide admin at top level", dirAdmin(""), directory.PermManage, []string{""}, true},
		{"scoped admin at their root", scoped, directory.PermManage, []string{sales.ID}, true},
		{"scoped admin below their root", scoped, directory.PermManage, []string{hk.ID}, true},
		{"scoped admin elsewhere", scoped, directory.PermManage, []string{fin.ID}, false},
		{"scoped admin moving out of their subtree", scoped, directory.PermManage, []string{hk.ID, fin.ID}, false},
		{"scoped admin at top level", scoped, directory.PermManage, []string{""}, false},
		{"scoped admin reads private fields inside", scoped, directory.PermReadPrivate, []string{hk.ID}, true},
		{"scoped admin reads no private fields outside", scoped, directory.PermReadPrivate, []string{fin.ID}, false},
		{"scoped admin changes no settings", scoped, directory.PermSettings, nil, false},
		{"company-wide admin changes settings", dirAdmin(""), directory.PermSettings, nil, true},
		{"unknown permission", superAdmin(), directory.Permission("directory.other"), nil, false},
		{"another company's super admin, in their own tree", otherCompany, directory.PermManage, []string{""}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.dir.Authorize(ctx, tc.actor, tc.perm, tc.deps...)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.Equal(t, problem.Forbidden, problem.KindOf(err))
			}
		})
	}

	// Through the operations: a scoped admin works inside only.
	_, err := f.dir.CreateDepartment(ctx, scoped, directory.NewDepartment{Name: "Kowloon", Parent: hk.ID})
	require.NoError(t, err)
	_, err = f.dir.CreateDepartment(ctx, scoped, directory.NewDepartment{Name: "Tax", Parent: fin.ID})
	assert.Equal(t, problem.Forbidden, problem.KindOf(err))
	_, err = f.dir.CreateDepartment(ctx, scoped, directory.NewDepartment{Name: "New top"})
	assert.Equal(t, problem.Forbidden, problem.KindOf(err))
	_, err = f.dir.UpdateDepartment(ctx, scoped, hk.ID, directory.DepartmentChange{Parent: ptr(fin.ID)})
	assert.Equal(t, problem.Forbidden, problem.KindOf(err), "moving out of the subtree")
	_, err = f.dir.CreateEmployee(ctx, scoped, directory.NewEmployee{Email: "f@acme.com.hk", Profile: directory.Profile{NameEn: "f", Department: fin.ID}})
	assert.Equal(t, problem.Forbidden, problem.KindOf(err))
	e, err := f.dir.CreateEmployee(ctx, scoped, directory.NewEmployee{Email: "h@acme.com.hk", Profile: directory.Profile{NameEn: "h", Department: hk.ID, Phone: "+85261234567"}})
	require.NoError(t, err)
	_, err = f.dir.UpdateEmployee(ctx, scoped, e.ID, directory.EmployeeChange{Department: ptr(fin.ID)})
	assert.Equal(t, problem.Forbidden, problem.KindOf(err))

	// Private fields: the scoped admin and the employee see the phone; a colleague does not.
	for _, tc := range []struct {
		actor identity.Actor
		phone string
	}{{scoped, "+85261234567"}, {employee(e.ID), "+85261234567"}, {employee("u-colleague"), ""}, {dirAdmin(fin.ID), ""}} {
		got, err := f.dir.Employee(ctx, tc.actor, e.ID)
		require.NoError(t, err)
		assert.Equal(t, tc.phone, got.Phone, tc.actor.User+" "+tc.actor.Department)
	}
	// A scoped admin cannot delete the root of their own scope, even empty.
	solo := f.dept(t, "Solo", "")
	err = f.dir.DeleteDepartment(ctx, dirAdmin(solo.ID), solo.ID)
	assert.Equal(t, problem.Forbidden, problem.KindOf(err))
	require.NoError(t, f.dir.DeleteDepartment(ctx, dirAdmin(""), solo.ID))

	// Employees change their own phone, and nothing else.
	_, err = f.dir.UpdateEmployee(ctx, employee(e.ID), e.ID, directory.EmployeeChange{Phone: ptr("+85269999999")})
	require.NoError(t, err)
	_, err = f.dir.UpdateEmployee(ctx, employee(e.ID), e.ID, directory.EmployeeChange{Rank: ptr("Director")})
	assert.Equal(t, problem.Forbidden, problem.KindOf(err))
}

func TestCreateDepartment_RefusesTreesDeeperThanMaxDepth(t *testing.T) {
	f := newFixture(t)
	parent := ""
	var first string
	for i := range directory.MaxDepth {
		d := f.dept(t, fmt.Sprintf("L%d", i+1), parent)
		assert.Equal(t, i+1, d.Depth)
		parent = d.ID
		if first == "" {
			first = d.ID
		}
	}
	_, err := f.dir.CreateDepartment(ctx, superAdmin(), directory.NewDepartment{Name: "too deep", Parent: parent})
	assert.Equal(t, problem.Code("department-too-deep"), problem.CodeOf(err))
	other := f.dept(t, "Other", "")
	_, err = f.dir.UpdateDepartment(ctx, superAdmin(), first, directory.DepartmentChange{Parent: ptr(other.ID)})
	assert.Equal(t, problem.Code("department-too-deep"), problem.CodeOf(err), "moving the chain one level down")
}

func TestDeactivateEmployee_IsIdempotentAndStopsTheAccount(t *testing.T) {
	f := newFixture(t)
	d := f.dept(t, "Ops", "")
	e := f.emp(t, "amy", d.ID)
	got, err := f.dir.DeactivateEmployee(ctx, superAdmin(), e.ID)
	require.NoError(t, err)
	assert.Equal(t, directory.StatusDeactivated, got.Status)
	assert.Equal(t, "2026-11-26", got.LeaveDate, "today in Hong Kong (18:00 UTC is 02:00 the next day there)")
	_, err = f.dir.DeactivateEmployee(ctx, superAdmin(), e.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{e.ID, e.ID}, f.accounts.deactivated, "the account is asked each time (it is idempotent too)")
	n := 0
	for _, typ := range f.events.types() {
		if typ == directory.EventEmployeeDeactivated {
			n++
		}
	}
	assert.Equal(t, 1, n, "one event")
	page, err := f.dir.Employees(ctx, employee("u-1"), directory.Search{})
	require.NoError(t, err)
	assert.Empty(t, page.Employees, "deactivated employees are not listed by default")
	page, err = f.dir.Employees(ctx, employee("u-1"), directory.Search{IncludeDeactivated: true})
	require.NoError(t, err)
	assert.Len(t, page.Employees, 1)
}

func TestDepartmentExistsAndWithin_ServeOtherCapabilities(t *testing.T) {
	f := newFixture(t)
	a := f.dept(t, "A", "")
	b := f.dept(t, "B", a.ID)
	c := f.dept(t, "C", "")
	ok, err := f.dir.DepartmentExists(ctx, tenant, b.ID)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = f.dir.DepartmentExists(ctx, "c-other", b.ID)
	require.NoError(t, err)
	assert.False(t, ok, "another company's department does not exist here")

	within := f.dir.Within(ctx, tenant)
	for _, tc := range []struct {
		root, dep string
		want      bool
	}{{a.ID, a.ID, true}, {a.ID, b.ID, true}, {b.ID, a.ID, false}, {a.ID, c.ID, false}, {a.ID, "d-nothere", false}} {
		got, err := within(tc.root, tc.dep)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "%s under %s", tc.dep, tc.root)
	}
	scoped := identity.ActorFromClaims(tenant, "u", "s", []string{"admin", "admin:attendance", "dept:" + a.ID}, full)
	ok, err = scoped.AdministersIn(identity.AreaAttendance, b.ID, within)
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestCreateEmployee_GivesAnExistingAccountItsRecord(t *testing.T) {
	f := newFixture(t)
	f.accounts.existing = map[string]identity.UserView{
		"u-first": {ID: "u-first", Email: "chan@acme.com.hk", Status: identity.UserActive},
		"u-gone":  {ID: "u-gone", Email: "gone@acme.com.hk", Status: identity.UserDeactivated},
	}
	d := f.dept(t, "Board", "")
	e, err := f.dir.CreateEmployee(ctx, superAdmin(), directory.NewEmployee{UserID: "u-first", Profile: directory.Profile{NameZh: "陳大文", Department: d.ID}})
	require.NoError(t, err)
	assert.Equal(t, "u-first", e.ID)
	assert.Equal(t, "chan@acme.com.hk", e.Email, "the account's address")
	assert.Equal(t, identity.UserActive, e.Status)
	assert.Empty(t, f.accounts.provisioned, "no new account")

	_, err = f.dir.CreateEmployee(ctx, superAdmin(), directory.NewEmployee{UserID: "u-first", Profile: directory.Profile{NameZh: "陳大文"}})
	assert.Equal(t, problem.Code("employee-exists"), problem.CodeOf(err))
	_, err = f.dir.CreateEmployee(ctx, superAdmin(), directory.NewEmployee{UserID: "u-nobody", Profile: directory.Profile{NameZh: "無"}})
	assertField(t, err, "userId", "not-found")
	_, err = f.dir.CreateEmployee(ctx, superAdmin(), directory.NewEmployee{UserID: "u-gone", Profile: directory.Profile{NameZh: "走"}})
	assertField(t, err, "userId", "deactivated")
	_, err = f.dir.CreateEmployee(ctx, superAdmin(), directory.NewEmployee{UserID: "u-first", Email: "other@acme.com.hk", Profile: directory.Profile{NameZh: "陳"}})
	assertField(t, err, "email", "mismatch")

	_, err = f.dir.UpdateDepartment(ctx, superAdmin(), d.ID, directory.DepartmentChange{Head: ptr("u-first")})
	require.NoError(t, err, "an adopted account can head a department")
}

func TestUpdate_RefusesChangesMadeOnAnOldVersion(t *testing.T) {
	f := newFixture(t)
	d := f.dept(t, "Ops", "")
	renamed, err := f.dir.UpdateDepartment(ctx, superAdmin(), d.ID, directory.DepartmentChange{Name: ptr("Operations"), Version: d.Version})
	require.NoError(t, err)
	assert.Equal(t, d.Version+1, renamed.Version)
	_, err = f.dir.UpdateDepartment(ctx, superAdmin(), d.ID, directory.DepartmentChange{Name: ptr("Ops again"), Version: d.Version})
	assert.Equal(t, problem.Code("version-conflict"), problem.CodeOf(err))

	e := f.emp(t, "amy", d.ID)
	_, err = f.dir.UpdateEmployee(ctx, superAdmin(), e.ID, directory.EmployeeChange{Rank: ptr("Senior"), Version: e.Version})
	require.NoError(t, err)
	_, err = f.dir.UpdateEmployee(ctx, superAdmin(), e.ID, directory.EmployeeChange{Rank: ptr("Junior"), Version: e.Version})
	assert.Equal(t, problem.Code("version-conflict"), problem.CodeOf(err))
	got, err := f.dir.Employee(ctx, superAdmin(), e.ID)
	require.NoError(t, err)
	assert.Equal(t, "Senior", got.Rank)
}
