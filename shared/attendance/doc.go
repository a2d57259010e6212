// Package attendance is Lantau's clock-in domain: sites with a geofence and
// office Wi-Fi, shifts and working days with Hong Kong public holidays, the
// decision on each punch (Evaluate, a pure function), the per-employee
// punch hash chain stored through the table port, the daily Merkle root over
// every chain head of a company, corrections, timesheets and the missing
// punch check. It imports no AWS SDK and knows no HTTP.
//
// The clock-in path (Store.Punch) writes only items of the punching
// employee's own partition, so a 9:00 rush never contends on one key:
//
//	ATT#EMP#<employee> / HEAD          chain head, bound device, last punch (IfNotExists / IfVersion)
//	ATT#EMP#<employee> / P#<seq>       the punch record (IfNotExists)
//	ATT#EMP#<employee> / IDEM#<key>    idempotency marker (IfNotExists; expires after 30 days)
//
// Three items per punch. Each is under 1 KB for a typical punch (a test
// checks one with a UUID key, two Wi-Fi networks and three reasons: the
// record stores reason codes and arguments, not their text): 3 WCU as
// plain writes, but they go in one TransactWriteItems, which DynamoDB
// bills double: 6 WCU per punch. A record over 1 KB (many Wi-Fi networks,
// a long note; MaxSeenAPs and MaxNoteBytes cap them) costs 2 more WCU per
// started KB. The reads are one strongly consistent BatchGetItem of HEAD and
// the marker (2 RCU), plus the company's set-up (Store.Rules, one query of
// a small partition that is read, never written, on the punch path; the
// function may cache it). A retried punch (same key) reads 2 RCU and
// writes nothing. A conflicting punch of the same employee retries. An employee's
// very first record also registers the chain in ATT#CHAINS / <employee>
// (once per employee, never again; 4 items = 8 WCU on that punch only);
// the daily root reads that partition with a query.
package attendance

import _ "time/tzdata" // shifts name time zones; Lambda's provided.al2023 image has no zoneinfo
