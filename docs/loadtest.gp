# Throughput and p99 latency of issuance against concurrent clients, for two
# sweeps: issuance only (POST /api/v1/issuances) and the full citizen flow
# (issue, then download and check the PDF and data.json).
#   gnuplot -e "only='docs/loadtest-issue.tsv'; full='docs/loadtest-full.tsv'; out='docs/loadtest.png'" docs/loadtest.gp
# Each TSV comes from: minwon loadtest ... --concurrency 1,4,16,64,256,512 --tsv FILE
if (!exists("only")) only = 'docs/loadtest-issue.tsv'
if (!exists("full")) full = 'docs/loadtest-full.tsv'
if (!exists("out")) out = 'docs/loadtest.png'
if (!exists("subtitle")) subtitle = '2 vCPUs shared with other jobs; server, agencies and load generator on the same cores'
set terminal pngcairo size 1000,600 font "DejaVu Sans,11"
set output out
set title "minwon: documents/s and p99 latency against concurrent clients\n{/*0.8 ".subtitle."}"
set logscale x 2
set xlabel "concurrent clients"
set ylabel "documents / s" textcolor rgb "#1f5fa8"
set y2label "p99 latency, ms (log scale)" textcolor rgb "#c0392b"
set logscale y2 10
set ytics nomirror textcolor rgb "#1f5fa8"
set y2tics nomirror textcolor rgb "#c0392b"
set yrange [0:1200]
set y2range [1:100000]
set grid xtics ytics lc rgb "#dddddd"
set key top left box opaque font ",10"
set xtics (1,4,16,64,256,512)
set xrange [0.8:650]
plot only using 1:2 axes x1y1 with linespoints lw 2 pt 7 lc rgb "#1f5fa8" title "docs/s, issuance only", \
     full using 1:2 axes x1y1 with linespoints lw 2 pt 6 dt 3 lc rgb "#1f5fa8" title "docs/s, issue + download + check PDF and data.json", \
     only using 1:5 axes x1y2 with linespoints lw 2 pt 5 lc rgb "#c0392b" title "p99, issuance only", \
     full using 1:5 axes x1y2 with linespoints lw 2 pt 4 dt 3 lc rgb "#c0392b" title "p99, issue + download + check", \
     1000 axes x1y1 with lines dt 2 lw 1 lc rgb "#1f5fa8" title "target: 1,000 docs/s", \
     100 axes x1y2 with lines dt 2 lw 1 lc rgb "#c0392b" title "target: p99 100 ms at 64 clients"
