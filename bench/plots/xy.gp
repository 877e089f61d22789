# SPDX-License-Identifier: GPL-2.0
#
# One plot of several series, for bench/report.py:
#   gnuplot -e "files='a.dat b.dat'; titles='a b'; xlabel='..'; ylabel='..'; title='..';
#               logx='2'; logy='0|10'; style='lines|yerrorlines'; out='x.png'" bench/plots/xy.gp
# Each file: x y [ymin ymax] per line.  yerrorlines draws min..max as error bars.
set terminal pngcairo size 1000,600 noenhanced font ',10'
set output out
set title title
set xlabel xlabel
set ylabel ylabel
set grid
set key outside right top
set logscale x logx
if (logy ne '0') { set logscale y logy }
if (style eq 'lines') { set format y '%g' } else { set format y '%.1s%c' }
set xtics format '%.0s%c'
# more series than the 8 default colours: thicker lines from the 9th on
if (style eq 'lines') {
	plot for [i=1:words(files)] word(files, i) using 1:2 with lines \
		lw (i > 8 ? 4 : 2) title word(titles, i)
} else {
	plot for [i=1:words(files)] word(files, i) using 1:2:3:4 with yerrorlines \
		lw (i > 8 ? 4 : 2) title word(titles, i)
}
