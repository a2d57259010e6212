package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"

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
		spreadsheets, err := contains(filepath.Join(workDir, "arm64", fn.Name, "bootstrap"), "github.com/xuri/excelize/v2.")
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

// contains reports whether the binary at path holds text: the function
// names Go keeps even in a stripped binary tell which packages were linked
// (a package's mere import, which the linker may drop, does not count).
func contains(path, text string) (bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	return bytes.Contains(b, []byte(text)), nil
}
