package web

import (
	"github.com/gofiber/fiber/v2"

	"ziyuan/market"
)

// A seller opens its Stripe payout account from the earnings page: POST /earnings/payout-account
// (a form) redirects to Stripe's onboarding, which returns to /earnings when done and sends a
// seller whose link expired to GET /earnings/payout-account for a fresh one.

// onboardingURLs are where Stripe sends the seller: a fresh link when the old one expired
// (refresh), the earnings page when done (return). Absolute, on the site's public root.
func (s *Server) onboardingURLs(c *fiber.Ctx) (refresh, ret string) {
	site := s.siteURL(c)
	return site + "/earnings/payout-account", site + "/earnings"
}

func (s *Server) apiMyPayoutAccount(c *fiber.Ctx) error {
	acct, err := s.m.MyPayoutAccount(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(acct)
}

// apiStartPayoutOnboarding opens the seller's account if needed and answers with a fresh
// onboarding link.
func (s *Server) apiStartPayoutOnboarding(c *fiber.Ctx) error {
	refresh, ret := s.onboardingURLs(c)
	acct, err := s.m.StartPayoutOnboarding(c.UserContext(), refresh, ret)
	if err != nil {
		return err
	}
	return c.JSON(acct)
}

// postPayoutAccount is the earnings page's button: on to Stripe's onboarding.
func (s *Server) postPayoutAccount(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	refresh, ret := s.onboardingURLs(c)
	acct, err := s.m.StartPayoutOnboarding(c.UserContext(), refresh, ret)
	if err != nil {
		return err
	}
	return c.Redirect(acct.OnboardingURL, fiber.StatusSeeOther)
}

// refreshPayoutOnboarding is where Stripe sends a seller whose onboarding link expired: a fresh
// link for the account it began. Being a GET, which any site can make a browser send, it never
// opens an account; without one the seller goes back to the earnings page and its button.
func (s *Server) refreshPayoutOnboarding(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	acct, err := s.m.MyPayoutAccount(c.UserContext())
	if err != nil {
		return err
	}
	if acct.Status == market.PayoutAccountNone {
		return c.Redirect("/earnings", fiber.StatusSeeOther)
	}
	refresh, ret := s.onboardingURLs(c)
	if acct, err = s.m.StartPayoutOnboarding(c.UserContext(), refresh, ret); err != nil {
		return err
	}
	return c.Redirect(acct.OnboardingURL, fiber.StatusSeeOther)
}
