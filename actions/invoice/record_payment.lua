-- Records one incoming payment (a bank statement line) against the invoice.
-- event.data: amount_grosze (positive integer), reference (transfer title, optional).
local amount = event.data.amount_grosze
if math.type(amount) ~= 'integer' or amount <= 0 then
  error('payment.received needs amount_grosze, a positive whole number of grosze (got '
        .. tostring(amount) .. ')')
end
table.insert(ctx.payments, {
  amount_grosze = amount,
  reference = event.data.reference or '',
  received_at = iso(now()),
})
ctx.paid_grosze = ctx.paid_grosze + amount
ctx.outstanding_grosze = math.max(0, ctx.gross_grosze - ctx.paid_grosze)
if ctx.paid_grosze > ctx.gross_grosze then
  ctx.overpaid_grosze = ctx.paid_grosze - ctx.gross_grosze
  log('overpaid by ' .. ctx.overpaid_grosze .. ' gr: refund or keep as credit')
end
