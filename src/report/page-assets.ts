/** The styles and script of `report.html`, inlined (the page makes no fetches). */
export const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem}.meta{color:#555;margin-top:0}.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:8rem}.card b{display:block;font-size:1.5rem}
.verdict{font-size:1.15rem;font-weight:600;padding:.5rem .8rem;border-radius:6px;display:inline-block;margin:.4rem 0}
.verdict-good{background:#e8f5e9;color:#1b5e20}.verdict-attention{background:#fff3e0;color:#8a4b00}.verdict-bad{background:#ffebee;color:#b71c1c}
table{border-collapse:collapse;margin:1rem 0;font-size:.92rem}td,th{border:1px solid #ddd;padding:.3rem .5rem;vertical-align:top}
.counts td{text-align:right}.problems td:nth-child(6){text-align:right}thead th{background:#f4f4f4;text-align:left}
.error td:first-child{color:#c62828;font-weight:600}.warning td:first-child{color:#ef6c00}.info td:first-child{color:#555}
#chart .label,#chart .total,#chart .none{font-size:13px;fill:#333}.legend .key{margin-right:1rem;white-space:nowrap}
.legend i{display:inline-block;width:.9rem;height:.9rem;margin-right:.3rem;vertical-align:-2px}
.filters{display:flex;gap:1rem;flex-wrap:wrap;align-items:center}.checklist li{margin:.4rem 0}
.sign-off{display:none}
@media print{@page{margin:14mm}body{max-width:none;margin:0;font-size:10.5pt}.filters,#shown{display:none}
a{color:inherit;text-decoration:none}h2{break-after:avoid}tr,.card,details,svg{break-inside:avoid}
.legend i,.verdict,thead th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.sign-off{display:block;margin-top:2rem;break-inside:avoid}.sign-off p{margin:1.6rem 0 0;border-bottom:1px solid #000;width:24rem;padding-bottom:.2rem}}`;

/** Filters the problem rows in place; no data leaves the page. Printing opens every client's details. */
export const SCRIPT = `(function(){var e=document.getElementById('filter-entity'),s=document.getElementById('filter-severity'),t=document.getElementById('filter-text'),out=document.getElementById('shown');
var rows=Array.prototype.slice.call(document.querySelectorAll('tr.problem'));
function apply(){var ev=e.value,sv=s.value,tv=t.value.toLowerCase(),n=0;rows.forEach(function(r){var ok=(!ev||r.dataset.entity===ev)&&(!sv||r.dataset.severity===sv)&&(!tv||r.textContent.toLowerCase().indexOf(tv)>=0);r.hidden=!ok;if(ok)n++;});out.textContent='Showing '+n+' of '+rows.length;}
e.addEventListener('change',apply);s.addEventListener('change',apply);t.addEventListener('input',apply);apply();
window.addEventListener('beforeprint',function(){Array.prototype.forEach.call(document.querySelectorAll('details'),function(d){d.open=true;});});})();`;
