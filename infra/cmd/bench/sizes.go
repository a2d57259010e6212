package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lantau-hq/lantau/infra/lambdatest"
	"github.com/lantau-hq/lantau/infra/template"
)

// binarySize is a bootstrap as deployed: linux/arm64 with the production flags.
type binarySize struct {
	Name string  `json:"name"`
	MB   float64 `json:"mb"` // 10^6 bytes
	// Limit is the size target: maxSizeMB for a function that answers
	// staff's requests, maxBackOfficeSizeMB for one that only runs on
	// schedules and events or whose job is a spreadsheet (excelize, which
	// the issues name for XLSX, is ~5 MB and lives only in those).
	Limit float64 `json:"limit_mb"`
}

// sizeReport holds every function's size, and hello-world's for reference.
type sizeReport struct {
	Hello     binarySize   `json:"hello_world"`
	Functions []binarySize `json:"functions"`
}

func measureSizes(ctx context.Context, tmpl *template.Template, workDir string) (sizeReport, error) {
	var rep sizeReport
	var err error
	if rep.Hello, err = deployedSize(ctx, helloName, helloPackage, workDir); err != nil {
		return rep, err
	}
	for _, fn := range tmpl.Functions {
		size, err := deployedSize(ctx, fn.Name, "./functions/"+fn.Name, workDir)
		if err != nil {
			return rep, err
		}
		size.Limit = maxSizeMB
		spreadsheets, err := links(ctx, "./functions/"+fn.Name, "github.com/xuri/excelize/v2")
		if err != nil {
			return rep, err
		}
		if !servesHTTP(fn) || spreadsheets {
			size.Limit = maxBackOfficeSizeMB
		}
		rep.Functions = append(rep.Functions, size)
	}
	return rep, nil
}

func deployedSize(ctx context.Context, name, pkg, workDir string) (binarySize, error) {
	out := filepath.Join(workDir, "arm64", name, "bootstrap")
	if err := lambdatest.Build(ctx, pkg, out, lambdatest.Lambda); err != nil {
		return binarySize{}, err
	}
	info, err := os.Stat(out)
	if err != nil {
		return binarySize{}, err
	}
	return binarySize{Name: name, MB: float64(info.Size()) / 1e6}, nil
}

// servesHTTP reports whether fn has an HTTP API route.
func servesHTTP(fn *template.Function) bool {
	for _, ev := range fn.Events {
		if ev.Type == "HttpApi" {
			return true
		}
	}
	return false
}

// links reports whether pkg's production build depends on module.
func links(ctx context.Context, pkg, module string) (bool, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-tags", lambdatest.Lambda.Tags, "-deps", pkg)
	out, err := cmd.Output()
	if err != nil {
		return false, fmt.Errorf("go list %s: %w", pkg, err)
	}
	return slices.Contains(strings.Fields(string(out)), module), nil
}
