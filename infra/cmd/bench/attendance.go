package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/attendance/attendancefn"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/sheet"
	"github.com/lantau-hq/lantau/shared/sheet/xlsx"
)

// The attendance measurements (issue 6): the 9:00 rush on the local runner
// (attendanceClients employees of one company, each a client of its own,
// punching over loopback through the JWT authorizer, the session check, the
// access log and the clock-in function), the capacity a punch consumes on
// DynamoDB Local, and a month's timesheet of sheetEmployees employees.
const (
	attendanceClients = 200
	clockInFor        = 5 * time.Second
	sheetEmployees    = 500
	sheetRuns         = 5
	dynamoPunchers    = 4

	maxClockInP99 = 25.0 // ms, 200 clients over loopback on the runner
	// A month's timesheet for 500 people reads 500 chains and computes:
	// seconds would mean a read per punch or a quadratic match.
	maxSheetMs = 5000.0
)

// attendanceReport is what the attendance section measured.
type attendanceReport struct {
	Setup     string         `json:"setup"`
	ClockIn   opStats        `json:"clock_in"`       // closed loop: every client punches again as soon as answered
	Paced     opStats        `json:"clock_in_paced"` // each client punches once a second
	Outcomes  map[string]int `json:"clock_in_outcomes"`
	Dynamo    storeRun       `json:"dynamodb_local"`
	Timesheet sheetStats     `json:"timesheet"`
	Targets   []target       `json:"targets"`
}

type sheetStats struct {
	Employees  int     `json:"employees"`
	Punches    int     `json:"punches"`
	SeedSecond float64 `json:"seed_seconds"`
	Runs       int     `json:"runs"`
	MedianMs   float64 `json:"median_ms"` // read chains + directory, compute, build the table
	MaxMs      float64 `json:"max_ms"`
	XLSXMs     float64 `json:"xlsx_ms"` // writing that table as XLSX, median
	CSVMs      float64 `json:"csv_ms"`
}

// measureAttendance runs the three attendance measurements.
func measureAttendance(ctx context.Context, root, templatePath, workDir string) (attendanceReport, error) {
	var rep attendanceReport
	var err error
	if rep.ClockIn, rep.Paced, rep.Outcomes, rep.Setup, err = measureClockIn(ctx, templatePath, filepath.Join(workDir, "attendance")); err != nil {
		return rep, fmt.Errorf("clock-in: %w", err)
	}
	if rep.Dynamo, err = measurePunchCapacity(ctx, root, templatePath); err != nil {
		return rep, fmt.Errorf("punch capacity: %w", err)
	}
	if rep.Timesheet, err = measureTimesheet(ctx, filepath.Join(workDir, "timesheet")); err != nil {
		return rep, fmt.Errorf("timesheet: %w", err)
	}
	rep.Targets = []target{
		{fmt.Sprintf("clock-in p99, %d clients each punching once a second, over loopback on the runner (ms)", rep.Paced.Workers), rep.Paced.P99,
			fmt.Sprintf("< %g", maxClockInP99), rep.Paced.P99 < maxClockInP99},
		{fmt.Sprintf("clock-in p99, %d clients in a closed loop (saturated: latency = clients / throughput) (ms)", rep.ClockIn.Workers), rep.ClockIn.P99,
			fmt.Sprintf("< %g", maxClockInP99), rep.ClockIn.P99 < maxClockInP99},
		{fmt.Sprintf("timesheet, %d employees x 1 month (ms, median)", rep.Timesheet.Employees), rep.Timesheet.MedianMs,
			fmt.Sprintf("< %g", maxSheetMs), rep.Timesheet.MedianMs < maxSheetMs},
	}
	return rep, nil
}

// benchOffice is the bench company's site.
var benchOffice = attendance.LatLng{Lat: 22.3120, Lng: 114.2250}

// measureClockIn serves template.yaml, makes a company with n employees of
// one department, a site and a shift around now, and measures punches.
func measureClockIn(ctx context.Context, templatePath, dataDir string) (closed, paced opStats, outcomes map[string]int, setup string, err error) {
	started := time.Now()
	stack, err := startIdentityStack(ctx, templatePath, dataDir)
	if err != nil {
		return closed, paced, nil, "", err
	}
	defer stack.close()
	tokens, err := attendanceCompany(ctx, stack, attendanceClients)
	if err != nil {
		return closed, paced, nil, "", fmt.Errorf("setup: %w", err)
	}
	setup = fmt.Sprintf("runner, 1 company, %d employees of one department signed in, made in %.1f s; each client punches as its own employee "+
		"(Wi-Fi and GPS inside the site, within the shift: accepted, no event) with a new Idempotency-Key; one connection per client",
		len(tokens), time.Since(started).Seconds())

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 2 * len(tokens), MaxIdleConnsPerHost: 2 * len(tokens)}}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	outcomes = map[string]int{}
	punch := func(ctx context.Context, emp int, key string, count bool) error {
		body, _ := json.Marshal(map[string]any{
			"kind": "in", "deviceId": fmt.Sprintf("bench-phone-%d", emp), "clientTime": time.Now().Format(time.RFC3339Nano),
			"location": map[string]any{"lat": benchOffice.Lat, "lng": benchOffice.Lng, "accuracyM": 10},
			"wifi":     []map[string]any{{"ssid": "Bench-Office", "bssid": "a4:2b:b0:12:34:56"}},
		})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, stack.api+"/v1/attendance/punches", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokens[emp])
		req.Header.Set("Idempotency-Key", key)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("punch: %d %s", resp.StatusCode, raw)
		}
		if count {
			var out struct {
				Outcome string `json:"outcome"`
			}
			_ = json.Unmarshal(raw, &out)
			mu.Lock()
			outcomes[out.Outcome]++
			mu.Unlock()
		}
		return nil
	}
	// Each employee's first punch registers their chain and binds the phone.
	warm := loop{Workers: len(tokens), Calls: len(tokens)}.run(ctx, func(ctx context.Context, _, seq int) error {
		return punch(ctx, seq, fmt.Sprintf("warm-%d", seq), false)
	})
	if warm.Failed > 0 {
		return closed, paced, nil, setup, fmt.Errorf("first punches: %d failed, the first: %w", warm.Failed, warm.FirstErr)
	}
	paced, err = pacedCalls(ctx, "clock-in, each client once a second", len(tokens), time.Second, clockInFor,
		func(ctx context.Context, w, seq int) error { return punch(ctx, w, fmt.Sprintf("paced-%d", seq), true) })
	if err != nil {
		return closed, paced, outcomes, setup, err
	}
	closed, err = measureCalls(ctx, "clock-in, closed loop", len(tokens), 0, maxCalls, 0, clockInFor,
		func(ctx context.Context, w, seq int) error { return punch(ctx, w, fmt.Sprintf("bench-%d", seq), true) })
	return closed, paced, outcomes, setup, err
}

// pacedCalls has each of workers call once per period, the workers'
// schedules spread evenly over the period, for dur. A call's latency runs
// from when it was due, so a call that had to wait for the one before it
// counts the wait (no coordinated omission).
func pacedCalls(ctx context.Context, name string, workers int, period, dur time.Duration, call callFunc) (opStats, error) {
	var (
		next     atomic.Int64
		failed   atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	lat := make([][]time.Duration, workers)
	start := time.Now().Add(50 * time.Millisecond)
	for w := range workers {
		wg.Go(func() {
			offset := period * time.Duration(w) / time.Duration(workers)
			for i := 0; ; i++ {
				due := start.Add(offset + time.Duration(i)*period)
				if due.Sub(start) >= dur || ctx.Err() != nil {
					return
				}
				time.Sleep(time.Until(due))
				if err := call(ctx, w, int(next.Add(1))); err != nil {
					failed.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				lat[w] = append(lat[w], time.Since(due))
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		return opStats{}, fmt.Errorf("%s: %d calls failed, the first: %w", name, failed.Load(), firstErr)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	return opStats{Op: name, Workers: workers, Ops: len(all), Seconds: dur.Seconds(), PerSecond: float64(len(all)) / dur.Seconds(),
		P50: millis(percentile(all, 50)), P99: millis(percentile(all, 99))}, nil
}

// attendanceCompany registers a company, sets up its attendance and makes
// n employees through the directory; it returns their access tokens.
func attendanceCompany(ctx context.Context, s *identityStack, n int) ([]string, error) {
	const domain = "clockin.lantau.hk"
	boss, err := s.newCompany(ctx, "Clock-in Bench Ltd", domain)
	if err != nil {
		return nil, err
	}
	dep, err := s.call(ctx, 0, "POST", "/v1/directory/departments", boss, http.StatusCreated, map[string]any{"name": "Operations", "nameZh": "營運部"})
	if err != nil {
		return nil, err
	}
	hk := time.Now().In(hongKong)
	setupCalls := []struct {
		path string
		body map[string]any
	}{
		{"/v1/attendance/sites/hq", map[string]any{"name": "Kwun Tong office",
			"fence":        map[string]any{"center": map[string]any{"lat": benchOffice.Lat, "lng": benchOffice.Lng}, "radiusM": 150},
			"accessPoints": []map[string]any{{"ssid": "Bench-Office", "bssid": "a4:2b:b0:12:34:56"}}}},
		{"/v1/attendance/shifts/now", map[string]any{"name": "Around now", "start": hk.Add(-30 * time.Minute).Format("15:04"),
			"end": hk.Add(8*time.Hour + 30*time.Minute).Format("15:04"), "lateGraceMin": 60,
			"weekdays": []int{0, 1, 2, 3, 4, 5, 6}, "worksHolidays": true}},
		{"/v1/attendance/assignments/ops", map[string]any{"department": str(dep, "id"), "sites": []string{"hq"}, "shifts": []string{"now"}}},
	}
	for _, c := range setupCalls {
		if _, err := s.call(ctx, 0, "PUT", c.path, boss, http.StatusOK, c.body); err != nil {
			return nil, err
		}
	}
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("staff%04d@%s", i, domain)
	}
	each := func(f func(ctx context.Context, w, i int) error) error {
		o := loop{Workers: setupWorkers, Calls: n}.run(ctx, f)
		if o.Failed > 0 {
			return o.FirstErr
		}
		return ctx.Err()
	}
	if err := each(func(ctx context.Context, w, i int) error {
		_, err := s.call(ctx, w, "POST", "/v1/directory/employees", boss, http.StatusCreated,
			map[string]any{"nameEn": fmt.Sprintf("Staff %04d", i), "email": emails[i], "department": str(dep, "id")})
		return err
	}); err != nil {
		return nil, fmt.Errorf("employees: %w", err)
	}
	links, err := s.links("invitation")
	if err != nil {
		return nil, err
	}
	tokens := make([]string, n)
	if err := each(func(ctx context.Context, w, i int) error {
		if _, err := s.call(ctx, w, "POST", "/v1/users/invitations/accept", "", http.StatusOK,
			map[string]any{"token": links[emails[i]], "password": benchPassword}); err != nil {
			return err
		}
		res, err := s.call(ctx, w, "POST", "/v1/auth/login", "", http.StatusOK, map[string]any{"email": emails[i], "password": benchPassword})
		if err != nil {
			return err
		}
		if tokens[i] = str(res, "accessToken"); tokens[i] == "" {
			return errors.New("login: no access token")
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("sign-in: %w", err)
	}
	return tokens, nil
}

var hongKong = func() *time.Location {
	l, err := time.LoadLocation("Asia/Hong_Kong")
	if err != nil {
		panic(err)
	}
	return l
}()

// benchRules are a site with office Wi-Fi and a shift around now.
func benchApplicable() attendance.Applicable {
	hk := time.Now().In(hongKong)
	return attendance.Applicable{
		Sites: []attendance.Site{{ID: "hq", Name: "Kwun Tong office", Fence: attendance.Geofence{Center: benchOffice, RadiusM: 150},
			AccessPoints: []attendance.AccessPoint{{SSID: "Bench-Office", BSSID: "a4:2b:b0:12:34:56"}}}},
		Shifts: []attendance.Shift{{ID: "now", Start: hk.Add(-30 * time.Minute).Format("15:04"), End: hk.Add(8*time.Hour + 30*time.Minute).Format("15:04"),
			LateGraceMin: 60, Weekdays: []time.Weekday{0, 1, 2, 3, 4, 5, 6}, WorksHolidays: true}},
	}
}

func benchPunch(emp, key string, clientTime time.Time) attendance.PunchCommand {
	return attendance.PunchCommand{
		Tenant: benchTenant, Employee: attendance.EmployeeID(emp), IdempotencyKey: key,
		Request: attendance.Request{Kind: attendance.In, Location: &attendance.Fix{LatLng: benchOffice, AccuracyM: 10},
			WiFi:     []attendance.SeenAP{{SSID: "Bench-Office", BSSID: "a4:2b:b0:12:34:56"}},
			DeviceID: "phone-" + emp, ClientTime: clientTime},
		Applicable: benchApplicable(), Calendar: attendance.NewCalendar(attendance.HongKongHolidays()),
	}
}

// measurePunchCapacity runs Store.Punch against DynamoDB Local and reports
// the capacity it consumes: a punch, an employee's first punch (which also
// registers the chain), and a retry with the same key (reads only).
func measurePunchCapacity(ctx context.Context, root, templatePath string) (storeRun, error) {
	b, err := startDynamo(ctx, root, templatePath)
	var skip *skipError
	if errors.As(err, &skip) {
		return storeRun{Store: skip.store, Skipped: skip.reason}, nil
	}
	if err != nil {
		return storeRun{}, err
	}
	defer b.close()
	run := storeRun{Store: b.name, Setup: b.setup, Note: b.note + "; a first punch writes 4 items (6 + 2 WCU on AWS), a retry reads HEAD and the key's marker (2 RCU, strongly consistent)"}
	st := attendance.NewStore(b.store, nil)
	fixed := time.Now().UTC().Truncate(time.Second)
	for w := range dynamoPunchers { // the punches the retries repeat
		if _, err := st.Punch(ctx, benchPunch(fmt.Sprintf("r-%d", w), "again", fixed)); err != nil {
			return run, err
		}
	}
	cases := []struct {
		name string
		call callFunc
	}{
		{"punch (3 items, 1 transaction)", func(ctx context.Context, w, seq int) error {
			_, err := st.Punch(ctx, benchPunch(fmt.Sprintf("e-%d", w), fmt.Sprintf("k-%d", seq), time.Now()))
			return err
		}},
		{"first punch of an employee", func(ctx context.Context, _, seq int) error {
			_, err := st.Punch(ctx, benchPunch(fmt.Sprintf("n-%d", seq), "first", time.Now()))
			return err
		}},
		{"retried punch (same key)", func(ctx context.Context, w, _ int) error {
			res, err := st.Punch(ctx, benchPunch(fmt.Sprintf("r-%d", w), "again", fixed))
			if err == nil && !res.Replayed {
				err = errors.New("a retry was not replayed")
			}
			return err
		}},
	}
	for _, c := range cases {
		s, err := b.measure(ctx, c.name, dynamoPunchers, c.call)
		if err != nil {
			return run, err
		}
		run.Ops = append(run.Ops, s)
	}
	return run, nil
}

// benchPeople is the directory of the timesheet bench: everyone in one
// department.
type benchPeople []attendancefn.Person

func (p benchPeople) Person(_ context.Context, _, id string) (attendancefn.Person, error) {
	return attendancefn.Person{ID: id, Department: "ops", Active: true}, nil
}
func (p benchPeople) Managers(context.Context, string, string) ([]string, error) { return nil, nil }
func (p benchPeople) Everyone(context.Context, string) ([]attendancefn.Person, error) {
	return p, nil
}
func (p benchPeople) Within(context.Context, string) identity.Subtree {
	return func(root, dep string) (bool, error) { return root == dep, nil }
}

// measureTimesheet seeds October 2026 for sheetEmployees employees on the
// embedded store (a clock-in and a clock-out on each of the 20 working
// days, through Store.Punch), then times the month's timesheet as the API
// computes it, and its XLSX and CSV.
func measureTimesheet(ctx context.Context, dir string) (sheetStats, error) {
	st := sheetStats{Employees: sheetEmployees, Runs: sheetRuns}
	store, err := openEmbedded(dir)
	if err != nil {
		return st, err
	}
	defer store.close()
	seedStore := attendance.NewStore(store.store, nil)
	if _, err := seedStore.SaveSite(ctx, benchTenant, attendance.Site{ID: "hq", Name: "Kwun Tong office",
		Fence: attendance.Geofence{Center: benchOffice, RadiusM: 150}}); err != nil {
		return st, err
	}
	day := attendance.Shift{ID: "day", Name: "Office hours", Start: "09:00", End: "18:00", LateGraceMin: 10}
	if _, err := seedStore.SaveShift(ctx, benchTenant, day); err != nil {
		return st, err
	}
	if err := seedStore.SaveAssignment(ctx, benchTenant, attendance.Assignment{ID: "ops", Department: "ops", Sites: []string{"hq"}, Shifts: []string{"day"}}); err != nil {
		return st, err
	}
	cal := attendance.NewCalendar(attendance.HongKongHolidays())
	var days []time.Time
	for d := 1; d <= 31; d++ {
		if o, ok := day.On(2026, time.October, d, cal); ok {
			days = append(days, o.Start)
		}
	}
	people := make(benchPeople, sheetEmployees)
	for i := range people {
		people[i] = attendancefn.Person{ID: fmt.Sprintf("e-%04d", i), Department: "ops", Name: fmt.Sprintf("Staff %04d", i), Active: true}
	}
	rules, err := seedStore.Rules(ctx, benchTenant)
	if err != nil {
		return st, err
	}
	started := time.Now()
	o := loop{Workers: 8, Calls: sheetEmployees}.run(ctx, func(ctx context.Context, _, i int) error {
		var now time.Time
		s := attendance.NewStore(store.store, func() time.Time { return now })
		emp := attendance.EmployeeID(people[i].ID)
		for d, start := range days {
			for k, at := range []time.Time{start.Add(time.Duration(i%20-12) * time.Minute), start.Add(9*time.Hour + time.Duration(i%30)*time.Minute)} {
				now = at
				kind := attendance.In
				if k == 1 {
					kind = attendance.Out
				}
				if _, err := s.Punch(ctx, attendance.PunchCommand{Tenant: benchTenant, Employee: emp, IdempotencyKey: fmt.Sprintf("%d-%d", d, k),
					Request: attendance.Request{Kind: kind, Location: &attendance.Fix{LatLng: benchOffice, AccuracyM: 10}, DeviceID: "phone", ClientTime: at},
					Policy:  rules.Policy, Applicable: rules.For(emp, "ops"), Calendar: rules.Calendar}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if o.Failed > 0 {
		return st, fmt.Errorf("seed: %d employees failed, the first: %w", o.Failed, o.FirstErr)
	}
	st.Punches = sheetEmployees * len(days) * 2
	st.SeedSecond = time.Since(started).Seconds()

	svc := attendancefn.NewService(store.store, nil, people, time.Now, nil)
	var runs, xlsxRuns, csv []time.Duration
	for range sheetRuns {
		t0 := time.Now()
		sh, byID, err := svc.MonthSheet(ctx, benchTenant, 2026, time.October, func(attendance.Employee) (bool, error) { return true, nil })
		if err != nil {
			return st, err
		}
		tbl := attendancefn.TimesheetTable(sh, byID)
		runs = append(runs, time.Since(t0))
		if len(sh.Employees) != sheetEmployees || sh.Employees[0].ScheduledShifts != len(days) || sh.Employees[0].PresentShifts != len(days) {
			return st, fmt.Errorf("timesheet: %d employees, the first with %d of %d shifts present", len(sh.Employees), sh.Employees[0].PresentShifts, len(days))
		}
		t0 = time.Now()
		if err := xlsx.Write(io.Discard, tbl, i18n.ZHHK); err != nil {
			return st, err
		}
		xlsxRuns = append(xlsxRuns, time.Since(t0))
		t0 = time.Now()
		if err := sheet.WriteCSV(io.Discard, tbl, i18n.ZHHK); err != nil {
			return st, err
		}
		csv = append(csv, time.Since(t0))
	}
	for _, d := range [][]time.Duration{runs, xlsxRuns, csv} {
		slices.Sort(d)
	}
	st.MedianMs, st.MaxMs = millis(runs[len(runs)/2]), millis(runs[len(runs)-1])
	st.XLSXMs, st.CSVMs = millis(xlsxRuns[len(xlsxRuns)/2]), millis(csv[len(csv)/2])
	return st, nil
}

// print writes the attendance section and its targets.
func (r attendanceReport) print(out io.Writer) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintf(w, "\nAttendance: %s\n", r.Setup)
	fmt.Fprintln(w, "  operation\tclients\tops\tops/s\tp50 ms\tp99 ms\t")
	for _, c := range []opStats{r.Paced, r.ClockIn} {
		fmt.Fprintf(w, "  %s\t%d\t%d\t%.0f\t%.3f\t%.3f\t\n", c.Op, c.Workers, c.Ops, c.PerSecond, c.P50, c.P99)
	}
	fmt.Fprintf(w, "  outcomes: %v\n", r.Outcomes)
	fmt.Fprintf(w, "  punches on %s: %s\n", r.Dynamo.Store, cmpOr(skipped(r.Dynamo), r.Dynamo.Setup))
	printStoreRows(w, []storeRun{r.Dynamo}, "case", true)
	if r.Dynamo.Note != "" {
		fmt.Fprintf(w, "  note: %s\n", r.Dynamo.Note)
	}
	t := r.Timesheet
	fmt.Fprintf(w, "  timesheet: %d employees x October 2026 (%d punches seeded through Store.Punch on bolt in %.1f s): "+
		"median %.1f ms, max %.1f ms over %d runs (chains read, computed, tabled); XLSX %.1f ms, CSV %.1f ms\n",
		t.Employees, t.Punches, t.SeedSecond, t.MedianMs, t.MaxMs, t.Runs, t.XLSXMs, t.CSVMs)
	for _, tg := range r.Targets {
		verdict := "FAIL"
		if tg.Pass {
			verdict = "PASS"
		}
		fmt.Fprintf(w, "  %s\t%s\t%.3f\twant %s\t\n", verdict, tg.Name, tg.Value, tg.Want)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// saveJSON writes v, indented, to path.
func saveJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
