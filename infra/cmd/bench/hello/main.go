// Command hello is the smallest aws-lambda-go function: the yardstick the
// bench measures Lantau's cold starts and binary sizes against.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context) (string, error) { return "hello", nil })
}
