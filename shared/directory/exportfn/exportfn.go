// Package exportfn builds the directory export function: GET
// /v1/directory/export as CSV or XLSX, headers in English or zh-HK. It is
// a function of its own so that the spreadsheet writer (excelize, with its
// tables) is in no other binary: the directory function answers every
// other directory route with half the code to load.
package exportfn

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/audit/auditfn"
	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/identity/session"
	"github.com/lantau-hq/lantau/shared/platform"
	"github.com/lantau-hq/lantau/shared/sheet"
	"github.com/lantau-hq/lantau/shared/sheet/xlsx"
	"github.com/lantau-hq/lantau/shared/token"
)

// New is the export function's constructor (functions/directoryexport).
// identity's Service is used only for the accounts' statuses.
func New(ctx context.Context, env function.Env) (lambda.Handler, error) {
	pf, err := platform.Open(ctx, env)
	if err != nil {
		return nil, err
	}
	accounts := identity.New(identity.Deps{Store: pf.Store, Events: pf.Bus, Refreshes: &token.Refreshes{Table: pf.Store}, Log: pf.Log})
	dir := directory.New(directory.Deps{Store: pf.Store, Accounts: accounts, Events: pf.Bus, Log: pf.Log})
	api := &API{Directory: dir, Sessions: session.FromEnv(pf.Store, env), Access: audit.NewAccessLog(pf.Store, 0, nil), Log: pf.Log}
	return function.HTTP(api.Handler()), nil
}

// API serves the export.
type API struct {
	Directory *directory.Directory
	Sessions  *identity.Sessions
	Access    *audit.AccessLog
	Log       *slog.Logger
}

// Handler serves GET /v1/directory/export; it needs a live session of a
// full sign-in of a directory admin.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	h := httpapi.Handle("directory.Export", func(w http.ResponseWriter, r *http.Request) error {
		ha, _ := httpapi.ActorFrom(r.Context())
		return a.export(w, r, identity.ActorFromClaims(ha.Tenant, ha.User, ha.SessionID, ha.Roles, ha.Scopes))
	})
	mux.Handle("GET /v1/directory/export", httpapi.RequireActor(auditfn.RecordAccess(a.Access, a.Log)(session.Require(a.Sessions)(h))))
	return httpapi.Logging(a.Log)(mux)
}

// Columns are the export's columns; their headers are ones the staff
// import reads, so an exported sheet, edited, imports back.
var Columns = []sheet.Column{
	{Header: i18n.Text{EN: "Name", ZH: "姓名"}, Width: 22},
	{Header: i18n.Text{EN: "Chinese Name", ZH: "中文姓名"}, Width: 12},
	{Header: i18n.Text{EN: "Display Name", ZH: "顯示名稱"}, Width: 24},
	{Header: i18n.Text{EN: "Email", ZH: "電郵"}, Width: 30},
	{Header: i18n.Text{EN: "Phone", ZH: "電話"}, Width: 16},
	{Header: i18n.Text{EN: "Title", ZH: "職銜"}, Width: 24},
	{Header: i18n.Text{EN: "Rank", ZH: "職級"}, Width: 10},
	{Header: i18n.Text{EN: "Employee Number", ZH: "員工編號"}, Width: 14},
	{Header: i18n.Text{EN: "Department", ZH: "部門"}, Width: 28},
	{Header: i18n.Text{EN: "Manager Email", ZH: "上司電郵"}, Width: 30},
	{Header: i18n.Text{EN: "Start Date", ZH: "入職日期"}, Kind: sheet.Date},
	{Header: i18n.Text{EN: "Leave Date", ZH: "離職日期"}, Kind: sheet.Date},
	{Header: i18n.Text{EN: "Status", ZH: "狀態"}, Width: 12},
}

func (a *API) export(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	f, err := sheet.FormatOf(r, sheet.CSV)
	if err != nil {
		return err
	}
	entries, err := a.Directory.Export(r.Context(), actor)
	if err != nil {
		return err
	}
	if f == sheet.JSON {
		return httpapi.JSON(w, http.StatusOK, map[string]any{"employees": entries})
	}
	return sheet.Serve(w, r, f, fileName(i18n.FromRequest(r)), Table(entries, i18n.FromRequest(r)), xlsx.Write)
}

func fileName(lang i18n.Lang) string {
	if lang == i18n.ZHHK {
		return "員工名單"
	}
	return "staff"
}

// Table is the export of entries, with department paths in lang.
func Table(entries []directory.ExportEntry, lang i18n.Lang) sheet.Table {
	t := sheet.Table{Name: i18n.Text{EN: "Staff", ZH: "員工"}, Columns: Columns, Rows: make([][]any, 0, len(entries))}
	date := func(s string) any {
		d, err := time.Parse(directory.DateLayout, s)
		if s == "" || err != nil {
			return nil
		}
		return d
	}
	for _, e := range entries {
		path := e.DepartmentPath
		if lang == i18n.ZHHK {
			path = e.DepartmentPathZh
		}
		t.Rows = append(t.Rows, []any{e.NameEn, e.NameZh, e.DisplayName, e.Email, e.Phone, e.Title, e.Rank, e.EmployeeNumber,
			strings.Join(path, "/"), e.ManagerEmail, date(e.StartDate), date(e.LeaveDate), e.Status})
	}
	return t
}
