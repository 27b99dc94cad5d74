package verify

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"admincenter/internal/text"
)

// namesShown bounds the names of a certificate quoted in one sentence: some
// cover hundreds.
const namesShown = 5

// namesKept bounds the names a report keeps, so that a certificate for
// hundreds of names cannot flood a page or a database row.
const namesKept = 50

// noteCertificate keeps the certificate host presented when it is why the
// request failed, and says what is wrong with it.
func (h *httpsCheck) noteCertificate(host string, err error) {
	var unverified *tls.CertificateVerificationError
	if !errors.As(err, &unverified) || len(unverified.UnverifiedCertificates) == 0 {
		return
	}
	leaf := unverified.UnverifiedCertificates[0]
	names := coveredNames(leaf)
	if len(names) > namesKept {
		names = append(names[:namesKept], fmt.Sprintf("and %d more", len(names)-namesKept))
	}
	h.report.Certificate = &Certificate{Subject: cut(leaf.Subject.String(), maxValueRunes), Issuer: cut(leaf.Issuer.String(), maxValueRunes),
		NotBefore: leaf.NotBefore.UTC(), NotAfter: leaf.NotAfter.UTC(), Names: names}
	found, fix := certificateProblem(host, leaf, unverified.Err)
	h.mistakes = append(h.mistakes, Mistake{Kind: "certificate", Found: found, Fix: fix})
}

// certificateProblem names what is wrong with the certificate leaf of host
// and what to change, from the reason it failed verification.
func certificateProblem(host string, leaf *x509.Certificate, err error) (found, fix string) {
	var invalid x509.CertificateInvalidError
	var wrongHost x509.HostnameError
	var unknown x509.UnknownAuthorityError
	whose := "The certificate of " + host
	// The handshake judged the dates by this machine's clock, so the same
	// clock tells "expired" from "not yet valid".
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired && time.Now().Before(invalid.Cert.NotBefore):
		return fmt.Sprintf("%s is not valid before %s.", whose, text.Time(invalid.Cert.NotBefore)),
			fmt.Sprintf("Install a certificate that is valid now, or check again after %s.", text.Time(invalid.Cert.NotBefore))
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fmt.Sprintf("%s expired on %s.", whose, text.Time(invalid.Cert.NotAfter)),
			fmt.Sprintf("Renew the certificate of %s and install the new one on the server.", host)
	case errors.As(err, &wrongHost):
		covers := "no host name"
		if names := coveredNames(leaf); len(names) > 0 {
			covers = "only " + listNames(names)
		}
		return fmt.Sprintf("%s does not cover %s: it covers %s.", whose, host, covers),
			fmt.Sprintf("Add %s to the names of the certificate, or install one that covers it.", host)
	case errors.As(err, &unknown) && selfSigned(leaf):
		return whose + " is self-signed, so no trusted authority vouches for it.",
			"Replace it with a certificate from a public certificate authority, installed with its full chain."
	case errors.As(err, &unknown):
		return fmt.Sprintf("%s is issued by %s, an authority that is not trusted.", whose, issuerName(leaf)),
			"Use a certificate from a public certificate authority, and install it with its full chain (the intermediate certificates too)."
	}
	return fmt.Sprintf("%s is refused: %v.", whose, err),
		fmt.Sprintf("Install a certificate from a public certificate authority that covers %s, with its full chain.", host)
}

// coveredNames are the DNS names and IP addresses a certificate is valid for.
func coveredNames(c *x509.Certificate) []string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

// listNames writes a few names and how many more: "a.test, b.test and 3 more".
func listNames(names []string) string {
	var shown []string
	for _, n := range names[:min(len(names), namesShown)] {
		shown = append(shown, cut(n, summaryRunes))
	}
	list := strings.Join(shown, ", ")
	if more := len(names) - len(shown); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return list
}

// issuerName is the issuer as people know it: its common name, else its
// whole distinguished name.
func issuerName(c *x509.Certificate) string {
	if c.Issuer.CommonName != "" {
		return cut(c.Issuer.CommonName, summaryRunes)
	}
	return cut(c.Issuer.String(), summaryRunes)
}

// selfSigned reports whether c is signed by its own key. Most self-signed
// server certificates are not marked as authorities, so the signature is
// checked alone.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}
