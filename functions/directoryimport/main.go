// Command directoryimport is the Lambda that runs staff imports: S3
// announces each upload under imports/ and it writes the file's staff into
// the directory, reporting progress in the import's job.
package main

import (
	"github.com/lantau-hq/lantau/shared/directory/directoryfn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(directoryfn.NewImport) }
