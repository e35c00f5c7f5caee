-- The customer's panel choice (from the self-service link): checks that it fits the roof and prices it.
-- event.data: panel_model, panel_power_w (integer W), panel_count (integer), inverter_model,
--             price_net_grosze (integer: the price of that variant in the offer).
-- A choice that cannot be built is refused with a message the self-service page shows as it is.
local d = event.data
local function whole(v) return math.type(v) == 'integer' and v > 0 end
if not (whole(d.panel_count) and whole(d.panel_power_w) and whole(d.price_net_grosze)) then
  error('panels.chosen needs panel_count, panel_power_w and price_net_grosze as positive whole numbers')
end

-- A 400-450 W panel takes about 2 m² of roof, with the gaps the mounting needs.
local needed_m2 = d.panel_count * 2
if needed_m2 > ctx.roof_area_m2 then
  error(string.format('%d panels need about %d m² of roof, this roof has %s m²: choose fewer or smaller panels',
                      d.panel_count, needed_m2, tostring(ctx.roof_area_m2)))
end

ctx.panels = {
  model = d.panel_model or '',
  count = d.panel_count,
  power_w = d.panel_power_w,
  inverter = d.inverter_model or '',
}
ctx.system_power_w = d.panel_count * d.panel_power_w
ctx.price_net_grosze = d.price_net_grosze

-- VAT: 8 % for an installation on a residential building of at most 300 m² usable area, else 23 %.
local b = ctx.building
if b.kind == 'residential' and b.usable_area_m2 <= 300 then
  ctx.vat_rate = 8
else
  ctx.vat_rate = 23
end

-- The advance is 30 % of the net price, in whole złoty; it is fixed once invoiced (a later re-selection
-- changes only the final invoice).
if ctx.advance_invoice_id == nil then
  ctx.advance_net_grosze = ctx.price_net_grosze * 30 // 100 // 100 * 100
end
ctx.final_net_grosze = math.max(0, ctx.price_net_grosze - ctx.advance_net_grosze)
log(string.format('%d x %d W = %d W, net %d gr, VAT %d %%, advance net %d gr', d.panel_count,
                  d.panel_power_w, ctx.system_power_w, ctx.price_net_grosze, ctx.vat_rate,
                  ctx.advance_net_grosze))
