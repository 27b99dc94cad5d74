package mail

import "context"

// Claim and SendClaimed are SendDue in two steps, so that a test can play
// a sender that dies, or stands still, between claiming and delivering.
type Claim = claim

func (s *Sender) Claim(ctx context.Context) (*Claim, error) { return s.claim(ctx) }

func (s *Sender) SendClaimed(ctx context.Context, c *Claim) (int, error) { return s.sendBatch(ctx, c) }

// Len is how many of the claim's messages are not yet delivered.
func (c *Claim) Len() int { return len(c.messages) }
