-- Lead score, 0..100: how likely the lead turns into an installation and how soon to call back.
-- Runs on `qualify` after the guard accepted the lead (so budget, roof and region are known).
-- Integers only: money is in grosze, areas are floored to whole m².
local d = event.data
local score = 0

-- Budget above our minimum: 1 point per 2 000 zł, at most 40.
score = score + math.min(40, (d.budget_grosze - ctx.min_budget_grosze) // 200000)

-- Roof: about 5 m² per kWp; up to 30 points for 60 m² and more.
score = score + math.min(30, math.floor(d.roof_area_m2) // 2)

-- Where it came from: architects' clients sign most often.
local by_source = { architect = 20, referral = 15, fair = 10, web = 5 }
score = score + (by_source[ctx.source] or 0)

-- A known yearly usage means the customer has done the homework.
if (d.annual_usage_kwh or 0) > 0 then
  score = score + 10
end

ctx.score = math.max(0, math.min(100, score))
if ctx.score >= 60 then
  ctx.priority = 'hot'
elseif ctx.score >= 30 then
  ctx.priority = 'warm'
else
  ctx.priority = 'cold'
end
log('lead score ' .. ctx.score .. ' (' .. ctx.priority .. ')')
