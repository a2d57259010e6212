package i18n

import "time"

// HongKong is the Asia/Hong_Kong zone, in which Lantau names days and
// shows times; where the system has no zone database it is a fixed UTC+8
// zone, the same since Hong Kong dropped summer time in 1979.
var HongKong = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Hong_Kong")
	if err != nil {
		return time.FixedZone("HKT", 8*3600)
	}
	return loc
}()
