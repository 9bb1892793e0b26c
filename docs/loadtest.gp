# Throughput and p99 latency of issuance against concurrency.
# gnuplot -e "data='docs/loadtest-sweep.tsv'; out='docs/loadtest.png'" docs/loadtest.gp
# (the TSV comes from: minwon loadtest ... --concurrency 1,4,16,64,256,512 --tsv FILE)
if (!exists("data")) data = 'docs/loadtest-sweep.tsv'
if (!exists("out")) out = 'docs/loadtest.png'
if (!exists("subtitle")) subtitle = ''
set terminal pngcairo size 960,560 font "DejaVu Sans,11"
set output out
set title "minwon issuance over HTTP: throughput and p99 against concurrent clients\n{/*0.8 ".subtitle."}"
set logscale x 2
set xlabel "concurrent clients"
set ylabel "documents / s" textcolor rgb "#1f5fa8"
set y2label "p99 latency (ms, log scale)" textcolor rgb "#c0392b"
set logscale y2 10
set ytics nomirror textcolor rgb "#1f5fa8"
set y2tics nomirror textcolor rgb "#c0392b"
set yrange [0:1200]
set grid xtics ytics lc rgb "#dddddd"
set key top left box opaque
set xtics (1,4,16,64,256,512)
plot data using 1:2 axes x1y1 with linespoints lw 2 pt 7 lc rgb "#1f5fa8" title "documents/s", \
     data using 1:5 axes x1y2 with linespoints lw 2 pt 5 lc rgb "#c0392b" title "p99 latency (ms)", \
     1000 axes x1y1 with lines dt 2 lc rgb "#1f5fa8" title "target 1,000 docs/s", \
     100 axes x1y2 with lines dt 2 lc rgb "#c0392b" title "target p99 100 ms (at 64)"
