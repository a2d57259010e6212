package catalog_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/catalog"
	"github.com/lantau-hq/lantau/infra/runner"
	"github.com/lantau-hq/lantau/infra/template"
)

// The template, the constructors and the functions/ folders must agree.
func TestCatalog_AgreesWithTemplateAndFunctionFolders(t *testing.T) {
	tmpl, err := template.Load("../../template.yaml")
	require.NoError(t, err)
	ctors := catalog.Constructors()
	require.NoError(t, runner.CheckConstructors(tmpl, ctors))

	dirs, err := os.ReadDir("../../functions")
	require.NoError(t, err)
	var folders []string
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		folders = append(folders, d.Name())
		main, err := os.ReadFile(filepath.Join("../../functions", d.Name(), "main.go"))
		require.NoError(t, err, "functions/%s needs a main.go", d.Name())
		assert.Contains(t, string(main), "function.Main(", "functions/%s/main.go must only start its constructor", d.Name())
		assert.Contains(t, ctors, d.Name(), "functions/%s has no constructor in the catalog", d.Name())
	}
	for name := range ctors {
		assert.Contains(t, folders, name, "constructor %q has no functions/%s folder", name, name)
	}
}

// Every sample event decodes as its trigger's type and encodes back to the same JSON.
func TestSampleEvents_RoundTripAsTheirTriggerTypes(t *testing.T) {
	files, err := filepath.Glob("../../events/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	kinds := map[string]func() any{
		"http-":        func() any { return &events.APIGatewayV2HTTPRequest{} },
		"eventbridge-": func() any { return &events.EventBridgeEvent{} },
		"schedule":     func() any { return &events.EventBridgeEvent{} },
		"s3-":          func() any { return &events.S3Event{} },
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			var v any
			for prefix, mk := range kinds {
				if strings.HasPrefix(name, prefix) {
					v = mk()
				}
			}
			require.NotNil(t, v, "events/%s: name it http-, eventbridge-, schedule or s3- by its trigger", name)
			require.NoError(t, json.Unmarshal(raw, v))
			back, err := json.Marshal(v)
			require.NoError(t, err)
			assertJSONSubset(t, raw, back)
		})
	}
}

// assertJSONSubset checks every field of want survives in got (the SDK types
// may add empty fields of their own).
func assertJSONSubset(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	require.NoError(t, json.Unmarshal(want, &w))
	require.NoError(t, json.Unmarshal(got, &g))
	var check func(path string, w, g any)
	check = func(path string, w, g any) {
		switch wv := w.(type) {
		case map[string]any:
			gm, ok := g.(map[string]any)
			if !assert.True(t, ok, "%s: not an object", path) {
				return
			}
			for k, v := range wv {
				check(path+"."+k, v, gm[k])
			}
		case []any:
			gl, ok := g.([]any)
			if !assert.True(t, ok, "%s: not a list", path) || !assert.Len(t, gl, len(wv), path) {
				return
			}
			for i := range wv {
				check(path, wv[i], gl[i])
			}
		default:
			assert.Equal(t, w, g, path)
		}
	}
	check("$", w, g)
}
