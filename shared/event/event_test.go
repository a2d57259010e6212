package event_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/event"
)

func TestNew_ValidatesTheEnvelope(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.FixedZone("HKT", 8*3600))
	cases := []struct {
		name, source, typ, tenant, actor string
		data                             any
		wantErr                          string
	}{
		{"valid", "lantau.directory", "EmployeeLeft", "t-acme", "u-1", map[string]int{"a": 1}, ""},
		{"source outside lantau", "acme.crm", "EmployeeLeft", "t-acme", "u-1", nil, "source"},
		{"type not PascalCase", "lantau.directory", "employee_left", "t-acme", "u-1", nil, "type"},
		{"longest source", "lantau.d" + strings.Repeat("x", 40), "EmployeeLeft", "t-acme", "u-1", nil, ""},
		{"source too long", "lantau.d" + strings.Repeat("x", 41), "EmployeeLeft", "t-acme", "u-1", nil, "source"},
		{"source of one letter", "lantau.d", "EmployeeLeft", "t-acme", "u-1", nil, "source"},
		{"longest type", "lantau.directory", "E" + strings.Repeat("x", 80), "t-acme", "u-1", nil, ""},
		{"type too long", "lantau.directory", "E" + strings.Repeat("x", 81), "t-acme", "u-1", nil, "type"},
		{"no tenant", "lantau.directory", "EmployeeLeft", "", "u-1", nil, "tenant"},
		{"no actor", "lantau.directory", "EmployeeLeft", "t-acme", "", nil, "actor"},
		{"data that cannot be JSON", "lantau.directory", "EmployeeLeft", "t-acme", "u-1", make(chan int), "data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := event.New(tc.source, tc.typ, tc.tenant, tc.actor, at, tc.data)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, event.ErrInvalid)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Len(t, e.ID, 28)
			assert.Equal(t, time.UTC, e.OccurredAt.Location())
		})
	}
}

func TestNewID_SortsByTimeAndIsUnique(t *testing.T) {
	t0 := time.Now()
	a, b := event.NewID(t0), event.NewID(t0.Add(time.Millisecond))
	assert.Less(t, a, b)
	assert.NotEqual(t, event.NewID(t0), event.NewID(t0))
}

func TestDecode_ReadsTheSampleEvent(t *testing.T) {
	raw, err := os.ReadFile("../../events/eventbridge-employee-left.json")
	require.NoError(t, err)
	e, err := event.Decode(raw)
	require.NoError(t, err)
	assert.Equal(t, "lantau.directory", e.Source)
	assert.Equal(t, "EmployeeLeft", e.Type)
	assert.Equal(t, "t-acme", e.Tenant)
	assert.JSONEq(t, `{"employeeId":"e-1024","email":"chan.taiman@acme.com.hk","managerId":"e-0007","leaveDate":"2026-11-24"}`, string(e.Data))

	_, err = event.Decode([]byte(`{"source":"lantau.x","detail-type":"Y","detail":{}}`))
	require.ErrorIs(t, err, event.ErrInvalid)
}
