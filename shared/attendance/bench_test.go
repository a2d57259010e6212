package attendance_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lantau-hq/lantau/shared/attendance"
)

func BenchmarkEvaluate(b *testing.B) {
	now := hk(2026, 11, 25, 8, 55)
	sites := []attendance.Site{kbSite()}
	for i := range 4 { // a company with five offices
		s := kbSite()
		s.ID = fmt.Sprintf("site-%d", i)
		s.Fence.Center = attendance.Offset(kowloonBay, float64(5000*(i+1)), 45)
		s.AccessPoints[0].BSSID = fmt.Sprintf("a4:2b:b0:12:34:%02x", i)
		sites = append(sites, s)
	}
	c := attendance.Context{
		Employee: "e-1", Sites: sites, Shifts: []attendance.Shift{officeShift()}, Calendar: attendance.NewCalendar(attendance.HongKongHolidays()),
		BoundDevice: "dev-1", Now: now,
		Previous: &attendance.LastPunch{Seq: 1, Kind: attendance.Out, Time: now.Add(-15 * time.Hour), Location: near(20, 10), Counts: true},
	}
	r := attendance.Request{Kind: attendance.In, Location: near(140, 20), DeviceID: "dev-1", ClientTime: now,
		WiFi: []attendance.SeenAP{{SSID: "x", BSSID: "00:11:22:33:44:55"}, {SSID: "y", BSSID: "66:77:88:99:aa:bb"}}}
	b.ReportAllocs()
	for b.Loop() {
		_ = attendance.Evaluate(attendance.Policy{}, c, r)
	}
}

func BenchmarkPunch_OneEmployee(b *testing.B) {
	s := attendance.NewStore(openTable(b), func() time.Time { return hk(2026, 11, 25, 8, 55) })
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		if _, err := s.Punch(ctx, punchCmd("e-1", fmt.Sprintf("k-%d", i), attendance.In, hk(2026, 11, 25, 8, 55))); err != nil {
			b.Fatal(err)
		}
	}
}

// Eight employees punching at once, each in their own partition: no
// contention on any item; on bbolt they share its one writer and fsync.
func BenchmarkPunch_EightEmployeesParallel(b *testing.B) {
	s := attendance.NewStore(openTable(b), func() time.Time { return hk(2026, 11, 25, 8, 55) })
	ctx := context.Background()
	const workers = 8
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			emp := attendance.EmployeeID(fmt.Sprintf("e-%d", w))
			for i := w; i < b.N; i += workers {
				if _, err := s.Punch(ctx, punchCmd(emp, fmt.Sprintf("k-%d", i), attendance.In, hk(2026, 11, 25, 8, 55))); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkMerkleRoot_10000Heads(b *testing.B) {
	ls := leaves(10_000)
	b.ReportAllocs()
	for b.Loop() {
		_ = attendance.MerkleRoot(ls)
	}
}

func BenchmarkTimesheet_500EmployeesOneMonth(b *testing.B) {
	cal := attendance.NewCalendar(attendance.HongKongHolidays())
	emps := make([]attendance.Employee, 500)
	punches := map[attendance.EmployeeID][]attendance.Punch{}
	for i := range emps {
		id := attendance.EmployeeID(fmt.Sprintf("e-%03d", i))
		emps[i] = attendance.Employee{ID: id, Department: fmt.Sprintf("d-%d", i%10), Shifts: []attendance.Shift{officeShift()}}
		for d := 1; d <= 31; d++ {
			day := hk(2026, 10, d, 0, 0)
			if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
				continue
			}
			punches[id] = append(punches[id],
				p(id, attendance.In, day.Add(8*time.Hour+time.Duration(50+i%25)*time.Minute)),
				p(id, attendance.Out, day.Add(17*time.Hour+time.Duration(45+i%40)*time.Minute)))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = attendance.Timesheet(2026, time.October, emps, cal, punches)
	}
}
