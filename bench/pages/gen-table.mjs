// Generates table.html: a 300-row orders table for the benchmarks.
// Deterministic (fixed-seed PRNG), so the committed file can be rebuilt
// byte for byte: node bench/pages/gen-table.mjs > bench/pages/table.html
const first = ["Ada", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines",
  "Jonas", "Kara", "Luis", "Mina", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara"];
const last = ["Lovelace", "Okafor", "Martin", "Ivanov", "Rossi", "Haddad", "Hopper", "Tanaka",
  "Silva", "Berg", "Novak", "Garcia", "Kim", "Schmidt", "Petrova", "Dvorak", "Walsh", "Moreau"];
const status = ["Pending", "Shipped", "Delivered", "Cancelled"];
let seed = 42;
const rnd = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
const rows = [];
for (let i = 1; i <= 300; i++) {
  const f = first[rnd(first.length)], l = last[rnd(last.length)];
  const id = 10000 + i;
  const day = 1 + rnd(28), month = 1 + rnd(12);
  const total = (5 + rnd(99500) / 100).toFixed(2);
  const st = status[rnd(status.length)];
  const action = st === "Pending"
    ? `<button type="button" data-order="${id}">Approve</button>`
    : `<a href="invoice.html?order=${id}">Invoice</a>`;
  rows.push(`<tr><td><a href="order.html?id=${id}">#${id}</a></td>` +
    `<td>${f} ${l}</td><td>2024-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}</td>` +
    `<td>$${total}</td><td>${st}</td><td>${action}</td></tr>`);
}
process.stdout.write(`<!DOCTYPE html>
<!-- Benchmark page: 300 orders x 6 columns, order links and row buttons. Made by gen-table.mjs. -->
<html lang="en">
<head>
<meta charset="utf-8">
<title>Orders - Initech Back Office</title>
<style>
body { font-family: sans-serif; margin: 0; color: #222; }
header { background: #6d597a; color: #fff; padding: 12px 24px; }
header a { color: #fff; margin-right: 16px; text-decoration: none; }
main { padding: 16px 24px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; }
th { background: #eee; }
</style>
</head>
<body>
<header>
  <nav aria-label="Main">
    <a href="table.html">Initech Back Office</a>
    <a href="table.html#customers">Customers</a>
    <a href="table.html#reports">Reports</a>
    <a href="table.html#settings">Settings</a>
  </nav>
</header>
<main>
  <h1>Orders</h1>
  <form role="search" action="table.html" method="get">
    <label for="q">Search orders</label>
    <input id="q" name="q" type="search">
    <button type="submit">Search</button>
  </form>
  <p>Showing 300 orders.</p>
  <table id="orders">
    <thead><tr><th>Order</th><th>Customer</th><th>Date</th><th>Total</th><th>Status</th><th>Action</th></tr></thead>
    <tbody>
${rows.join("\n")}
    </tbody>
  </table>
</main>
<script>
document.getElementById("orders").addEventListener("click", function (e) {
  var b = e.target.closest("button[data-order]");
  if (b) { b.textContent = "Approved"; b.disabled = true; }
});
</script>
</body>
</html>
`);
