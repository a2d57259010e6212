package credential

import (
	"testing"
)

// FuzzVerify feeds arbitrary strings to the PHC parser: it must never
// panic, must accept only what encode writes (encode(decode(s)) == s), and
// must keep the costs it accepts within bounds. Cheap accepted strings are
// also run through Verify.
func FuzzVerify(f *testing.F) {
	h := NewHasher(Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	good, err := h.Hash("pw")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		good, "", "$", "$$$$$", "$argon2id$v=19$m=19456,t=2,p=1$$",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=0,t=0,p=0$AA$AA", "$argon2id$v=19$m=18446744073709551616,t=1,p=1$AA$AA",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "$argon2id$v=19$m=64,t=1,p=256$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
	} {
		f.Add("pw", s)
	}
	f.Fuzz(func(t *testing.T, password, encoded string) {
		p, salt, key, err := decode(encoded)
		if err != nil {
			if _, _, verr := h.Verify(password, encoded); verr == nil {
				t.Fatalf("Verify accepted %q that decode refused", encoded)
			}
			return
		}
		if got := encode(p, salt, key); got != encoded {
			t.Fatalf("decode accepted a non-canonical string:\n in  %q\n out %q", encoded, got)
		}
		if p.check() != nil {
			t.Fatalf("decode accepted out-of-bounds parameters %+v", p)
		}
		if p.Memory <= 1024 && p.Time <= 2 {
			if _, _, err := h.Verify(password, encoded); err != nil {
				t.Fatalf("Verify refused %q that decode accepted: %v", encoded, err)
			}
		}
	})
}
