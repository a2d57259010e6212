// Command attendancenotify mails the people attendance events concern: a
// missing clock-in to the employee, a field punch to its approver.
package main

import (
	"github.com/lantau-hq/lantau/shared/attendance/notifyfn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(notifyfn.New) }
