package token

import "testing"

func TestMask(t *testing.T) {
	secret := "6NX466LWVBFO6D2DZM6OBMDGYG"
	a, b := Mask(secret), Mask(secret)
	if a == b {
		t.Error("two masks of a secret are equal")
	}
	for _, m := range []string{a, b} {
		if got := Unmask(m); got != secret {
			t.Errorf("Unmask(%q) = %q", m, got)
		}
	}
	for _, bad := range []string{"", "zz", "abc", secret} {
		if got := Unmask(bad); got != "" && got == secret {
			t.Errorf("Unmask(%q) = the secret", bad)
		}
	}
}
