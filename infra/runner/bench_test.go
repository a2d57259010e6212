package runner

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lantau-hq/lantau/infra/catalog"
)

// BenchmarkHealthThroughRunner measures the runner's own work per HTTP API
// request (event building, JSON both ways, invocation), without the network.
func BenchmarkHealthThroughRunner(b *testing.B) {
	r, err := New(context.Background(), Config{
		Template: "../../template.yaml", Constructors: catalog.Constructors(), DataDir: b.TempDir(),
		Addr: "127.0.0.1:0", AWSAddr: "127.0.0.1:0", NoSchedules: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	req := httptest.NewRequest(http.MethodGet, "/v1/health", nil)
	req.RemoteAddr = "127.0.0.1:5555"
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			r.api.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}
