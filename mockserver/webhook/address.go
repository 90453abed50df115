package webhook

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"syscall"
)

// The mock is shared by many tenants and runs on someone's machine or cloud instance. A webhook
// is a request the mock makes on a tenant's behalf, and the delivery log shows the answer, so a
// webhook pointed at the instance's metadata service (http://169.254.169.254/...) would hand
// that instance's credentials to whoever registered it. Such addresses are therefore refused
// twice: at registration, when the url names an IP address, and at every attempt, on the address
// the host name resolved to (the dialer's Control hook), so that a name resolving there is
// refused too.

// metadataAddrs are cloud metadata services outside the link-local ranges, which are refused
// as a whole.
var metadataAddrs = [...]netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"),   // AWS instance metadata over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud instance metadata
}

// sharedSpace is 100.64.0.0/10, the carrier-grade NAT range (RFC 6598), which overlay networks
// use for private addresses too; netip's IsPrivate does not cover it.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// addrPolicy decides which addresses deliveries may go to.
type addrPolicy struct {
	// refusePrivate also refuses loopback, private and unspecified addresses (Config.RefusePrivate).
	refusePrivate bool
}

// refusal says what kind of address addr is when the mock does not send webhooks to it, and is
// empty when it does.
func (p addrPolicy) refusal(addr netip.Addr) string {
	addr = addr.Unmap().WithZone("") // ::ffff:169.254.169.254 is 169.254.169.254
	switch {
	case addr.IsLinkLocalUnicast():
		return "a link-local address (169.254.0.0/16, fe80::/10), where cloud metadata services answer"
	case slices.Contains(metadataAddrs[:], addr):
		return "a cloud metadata address"
	case !p.refusePrivate:
		return ""
	case addr.IsLoopback(), addr.IsUnspecified():
		return "a loopback address, refused because the mock runs with --webhook-refuse-private"
	case addr.IsPrivate(), sharedSpace.Contains(addr):
		return "a private address, refused because the mock runs with --webhook-refuse-private"
	}
	return ""
}

// checkURL returns why raw is not a url webhooks may be sent to, or "" when it is. A host that
// is a name is checked when it is resolved, at every attempt: resolving it here would make
// registration do network I/O, and the answer could change anyway.
func (p addrPolicy) checkURL(raw string) string {
	if raw == "" {
		return "is required"
	}
	if len(raw) > 2048 {
		return "must be at most 2048 characters"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "is not a valid URL"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "must be an absolute http or https URL"
	}
	if u.Host == "" || u.Hostname() == "" {
		return "must name a host"
	}
	if addr, err := netip.ParseAddr(u.Hostname()); err == nil {
		if why := p.refusal(addr); why != "" {
			return fmt.Sprintf("must not name %s: %s; the mock does not send webhooks there", addr, why)
		}
	}
	return ""
}

// refusedError is the error of an attempt whose host resolved to an address the policy refuses.
type refusedError struct {
	address string
	why     string
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("refused: the webhook's host resolved to %s, %s; the mock does not send webhooks there", e.address, e.why)
}

// control is the dialer's Control hook. It runs for every address a connection is about to be
// made to, after name resolution and before anything is sent, so no connection to a refused
// address is ever opened.
func (p addrPolicy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &refusedError{address: address, why: "an address the mock cannot check"}
	}
	if why := p.refusal(ap.Addr()); why != "" {
		return &refusedError{address: ap.Addr().String(), why: why}
	}
	return nil
}
