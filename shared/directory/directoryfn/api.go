package directoryfn

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/audit/auditfn"
	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/idempotency"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/identity/session"
)

// API is the directory function's HTTP API.
type API struct {
	Directory *directory.Directory
	Sessions  *identity.Sessions
	Guard     *idempotency.Guard
	Access    *audit.AccessLog
	Log       *slog.Logger
	// Imports serves the staff import (imports.go).
	Imports *Imports
}

// Handler serves every directory route of template.yaml. Every route needs
// a live session of a full sign-in; POSTs honour Idempotency-Key.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, op string, fn func(http.ResponseWriter, *http.Request, identity.Actor) error) {
		var h http.Handler = httpapi.Handle(op, func(w http.ResponseWriter, r *http.Request) error {
			ha, _ := httpapi.ActorFrom(r.Context())
			return fn(w, r, identity.ActorFromClaims(ha.Tenant, ha.User, ha.SessionID, ha.Roles, ha.Scopes))
		})
		if strings.HasPrefix(pattern, "POST ") {
			h = idempotency.Middleware(a.Guard, op, false)(h)
		}
		mux.Handle(pattern, httpapi.RequireActor(auditfn.RecordAccess(a.Access, a.Log)(session.Require(a.Sessions)(h))))
	}
	const base = "/v1/directory"
	route("GET "+base+"/departments", "directory.Departments", a.departments)
	route("POST "+base+"/departments", "directory.CreateDepartment", a.createDepartment)
	route("GET "+base+"/departments/{id}", "directory.Department", a.department)
	route("PATCH "+base+"/departments/{id}", "directory.UpdateDepartment", a.updateDepartment)
	route("DELETE "+base+"/departments/{id}", "directory.DeleteDepartment", a.deleteDepartment)
	route("GET "+base+"/departments/{id}/members", "directory.Members", a.members)
	route("GET "+base+"/employees", "directory.Employees", a.employees)
	route("POST "+base+"/employees", "directory.CreateEmployee", a.createEmployee)
	route("GET "+base+"/employees/{id}", "directory.Employee", a.employee)
	route("PATCH "+base+"/employees/{id}", "directory.UpdateEmployee", a.updateEmployee)
	route("POST "+base+"/employees/{id}/deactivate", "directory.DeactivateEmployee", a.deactivateEmployee)
	route("POST "+base+"/employees/{id}/invitation", "directory.ResendInvitation", a.resendInvitation)
	route("GET "+base+"/employees/{id}/managers", "directory.Managers", a.managers)
	route("GET "+base+"/settings", "directory.Settings", a.settings)
	route("PUT "+base+"/settings", "directory.SetSettings", a.setSettings)
	a.importRoutes(mux) // POST /imports, GET /imports/{jobId}: imports.go
	return httpapi.Logging(a.Log)(mux)
}

func (a *API) departments(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	deps, err := a.Directory.Departments(r.Context(), actor)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"departments": deps})
}

func (a *API) department(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	dep, err := a.Directory.Department(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, dep)
}

func (a *API) createDepartment(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	var in struct {
		Name   string `json:"name"`
		NameZh string `json:"nameZh"`
		Parent string `json:"parent"`
		Head   string `json:"head"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	dep, err := a.Directory.CreateDepartment(r.Context(), actor, directory.NewDepartment{Name: in.Name, NameZh: in.NameZh, Parent: in.Parent, Head: in.Head})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/directory/departments/"+dep.ID)
	return httpapi.JSON(w, http.StatusCreated, dep)
}

func (a *API) updateDepartment(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	// Absent (or null) fields stay; "" moves to the top level (parent) or
	// removes the head.
	var in struct {
		Name   *string `json:"name"`
		NameZh *string `json:"nameZh"`
		Parent *string `json:"parent"`
		Head   *string `json:"head"`
		// Version, if sent, must be the department's current version.
		Version int64 `json:"version"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	dep, err := a.Directory.UpdateDepartment(r.Context(), actor, r.PathValue("id"), directory.DepartmentChange{
		Name: in.Name, NameZh: in.NameZh, Parent: in.Parent, Head: in.Head, Version: in.Version})
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, dep)
}

func (a *API) deleteDepartment(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	if err := a.Directory.DeleteDepartment(r.Context(), actor, r.PathValue("id")); err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusNoContent, nil)
}

// query reads the paging and filter parameters of a list.
func query(r *http.Request) (s directory.Search, err error) {
	var v httpapi.Validator
	q := r.URL.Query()
	s.Text, s.Department, s.Cursor = q.Get("q"), q.Get("department"), q.Get("cursor")
	flag := func(name string) bool {
		switch q.Get(name) {
		case "", "false", "0":
			return false
		case "true", "1":
			return true
		}
		v.Add(name, "boolean", i18n.Text{EN: "must be true or false", ZH: "必須為 true 或 false"})
		return false
	}
	s.Subtree = flag("subtree")
	s.IncludeDeactivated = flag("includeDeactivated")
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > directory.MaxPageSize {
			v.Add("limit", "range", i18n.Text{EN: "must be a whole number from 1 to %d", ZH: "必須為 1 至 %d 的整數"}.Format(directory.MaxPageSize))
		}
		s.Limit = n
	}
	return s, v.Err()
}

func (a *API) members(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	s, err := query(r)
	if err != nil {
		return err
	}
	page, err := a.Directory.Members(r.Context(), actor, r.PathValue("id"), s.Subtree, s.Cursor, s.Limit)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, page)
}

func (a *API) employees(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	s, err := query(r)
	if err != nil {
		return err
	}
	page, err := a.Directory.Employees(r.Context(), actor, s)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, page)
}

func (a *API) createEmployee(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	var in struct {
		NameEn         string `json:"nameEn"`
		NameZh         string `json:"nameZh"`
		Email          string `json:"email"`
		Phone          string `json:"phone"`
		Title          string `json:"title"`
		Rank           string `json:"rank"`
		EmployeeNumber string `json:"employeeNumber"`
		Department     string `json:"department"`
		Manager        string `json:"manager"`
		StartDate      string `json:"startDate"`
		LeaveDate      string `json:"leaveDate"`
		Language       string `json:"language"` // of the invitation mail; default Accept-Language
		UserID         string `json:"userId"`   // an existing account: give it its record, invite no one
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	lang := i18n.FromRequest(r)
	if in.Language != "" {
		lang = i18n.Negotiate(in.Language)
	}
	e, err := a.Directory.CreateEmployee(r.Context(), actor, directory.NewEmployee{Email: in.Email, Lang: lang, UserID: in.UserID, Profile: directory.Profile{
		NameEn: in.NameEn, NameZh: in.NameZh, Phone: in.Phone, Title: in.Title, Rank: in.Rank, EmployeeNumber: in.EmployeeNumber,
		Department: in.Department, Manager: in.Manager, StartDate: in.StartDate, LeaveDate: in.LeaveDate}})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/directory/employees/"+e.ID)
	return httpapi.JSON(w, http.StatusCreated, e)
}

func (a *API) employee(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	e, err := a.Directory.Employee(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, e)
}

func (a *API) updateEmployee(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	// Absent (or null) fields stay; "" clears a field.
	var in struct {
		NameEn         *string `json:"nameEn"`
		NameZh         *string `json:"nameZh"`
		Phone          *string `json:"phone"`
		Title          *string `json:"title"`
		Rank           *string `json:"rank"`
		EmployeeNumber *string `json:"employeeNumber"`
		Department     *string `json:"department"`
		Manager        *string `json:"manager"`
		StartDate      *string `json:"startDate"`
		LeaveDate      *string `json:"leaveDate"`
		Email          *string `json:"email"`   // a new sign-in address (admins only; not one's own)
		Version        int64   `json:"version"` // if sent, must be the record's current version
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	e, err := a.Directory.UpdateEmployee(r.Context(), actor, r.PathValue("id"), directory.EmployeeChange{
		NameEn: in.NameEn, NameZh: in.NameZh, Phone: in.Phone, Title: in.Title, Rank: in.Rank, EmployeeNumber: in.EmployeeNumber,
		Department: in.Department, Manager: in.Manager, StartDate: in.StartDate, LeaveDate: in.LeaveDate, Email: in.Email,
		Version: in.Version})
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, e)
}

func (a *API) deactivateEmployee(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	e, err := a.Directory.DeactivateEmployee(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, e)
}

func (a *API) managers(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	chain, err := a.Directory.Managers(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"managers": chain})
}

func (a *API) settings(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	s, err := a.Directory.Settings(r.Context(), actor)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, s)
}

func (a *API) setSettings(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	var in struct {
		DisplayNameFormat string `json:"displayNameFormat"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	s, err := a.Directory.SetDisplayNameFormat(r.Context(), actor, in.DisplayNameFormat)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, s)
}

func (a *API) resendInvitation(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	e, err := a.Directory.ResendInvitation(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusAccepted, e)
}
