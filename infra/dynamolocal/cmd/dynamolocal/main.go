// Command dynamolocal installs DynamoDB Local under .tools/dynamodb (make
// tools) or serves it in memory on 127.0.0.1 until interrupted.
//
//	go run ./infra/dynamolocal/cmd/dynamolocal install [-dir REPO]
//	go run ./infra/dynamolocal/cmd/dynamolocal serve [-dir REPO] [-port N] [-table NAME]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lantau-hq/lantau/infra/dynamolocal"
	"github.com/lantau-hq/lantau/infra/toolbox"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "dynamolocal:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || (args[0] != "install" && args[0] != "serve") {
		return fmt.Errorf("usage: dynamolocal install|serve [-dir REPO] [-port N] [-table NAME]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dir := fs.String("dir", "", "repository root (default: found from the working directory)")
	port := fs.Int("port", 0, "serve: port on 127.0.0.1 (0: a free one)")
	tableName := fs.String("table", "lantau", "serve: create this table from template.yaml")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dir == "" {
		root, err := toolbox.RepoRoot()
		if err != nil {
			return err
		}
		*dir = root
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if args[0] == "install" {
		jar, err := dynamolocal.Install(ctx, dynamolocal.ToolsDir(*dir))
		if err != nil {
			return err
		}
		fmt.Println(jar)
		return nil
	}
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	l, err := dynamolocal.StartProcessOn(startCtx, *dir, *port)
	if err != nil {
		return err
	}
	defer l.Close()
	if *tableName != "" {
		if err := dynamolocal.CreateTableFromTemplate(startCtx, l.Client(), filepath.Join(*dir, "template.yaml"),
			dynamolocal.TableLogicalID, *tableName); err != nil {
			return err
		}
	}
	fmt.Printf("DynamoDB Local %s on %s (started in %v), table %q; Ctrl-C stops it\n",
		dynamolocal.LocalVersion, l.Endpoint(), l.StartupTime().Round(time.Millisecond), *tableName)
	<-ctx.Done()
	return nil
}
