package main

import (
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
